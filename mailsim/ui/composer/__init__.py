"""The composer: a message built step by step, its MIME tree growing beside it."""

from mailsim.ui.composer.screen import ComposerScreen

__all__ = ["ComposerScreen"]
