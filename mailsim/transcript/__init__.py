"""The Bus that carries events, and the Recorder that writes them down."""
