"""The Textual app: console sessions, transcripts, state machine, replies, mailboxes.

The only package that imports Textual. Widgets render models and forward intent; the
protocol work is done by the engines in `mailsim.protocol`, driven by `console.py`.

    app.py            make_app() / run_app(): the one factory for the CLI and the tests
    strings.py        every user-facing text, from strings/<lang>.toml
    console.py        drives an engine session for the in-app console (no Textual)
    machine.py        reads an engine's TRANSITIONS table: valid verbs, diagram edges
    model.py          SessionModel: one session's transcript, replies and state, from events
    screens/          one module per screen (main, help, compose)
    widgets/          transcript, command input, state panel, reply panel, mailbox view
    styles/           the .tcss files
"""
