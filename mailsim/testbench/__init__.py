"""The testbench: mailsim judges programs students write, and explains each verdict.

`mailsim check client PROTOCOL` lets a student's client talk to a real mailsim server
and judges the conversation from the Bus events the engines publish; `mailsim check
server URL` talks to a student's server with scripted dialogs. Assignments (TOML, like
lessons) add what an exercise requires. Every verdict says what happened (the
exchange), why it matters, and the RFC section, in Spanish and English.
"""
