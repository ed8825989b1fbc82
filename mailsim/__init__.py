"""mailsim: an e-mail protocol lab in the terminal."""

__version__ = "0.1.0"
