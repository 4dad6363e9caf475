"""The errors a person can cause, each with the answer they get; the one error handler maps them.

Listeners never catch these: `bot.slack_app`'s `@app.error` turns them into an ephemeral reply
(or inline modal errors for a view submission). Anything else is a bug, logged with a reference.
"""

from __future__ import annotations

# The one answer when Slack itself asked us to wait (a 429) or refused to open a view in time:
# nothing was changed, and trying again shortly works.
SLACK_BUSY_TEXT = "Slack is busy right now, so nothing was changed. Please try again in a minute."


class PeerCoachError(Exception):
    """A known failure with a message fit to show the person as is (never user-written text)."""

    def __init__(self, message: str, *, block_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # For a modal submission: the input block the message belongs under.
        self.block_id = block_id


class UsageError(PeerCoachError):
    """The person asked for something we can't do (not a member, bad pause length, ...)."""


class StaleAction(PeerCoachError):
    """A button, modal or value refers to something that no longer exists or never did.

    Forged or out-of-date values land here too: the answer is the same and nothing is logged
    at ERROR, since the person did nothing wrong and a forger deserves no detail.
    """

    def __init__(self, message: str = "", *, block_id: str | None = None) -> None:
        super().__init__(
            message
            or "That button or form is out of date. Open PeerCoach again (`/peercoach`) to "
            "see where things stand.",
            block_id=block_id,
        )


class NotAdmin(PeerCoachError):
    """Only programme admins may do this."""

    def __init__(self) -> None:
        super().__init__("Sorry, that's for PeerCoach programme admins only.")


class Busy(PeerCoachError):
    """The work could not be done in the time Slack allows (the database or Slack is busy);
    nothing was changed, and the person is told to try again."""

    def __init__(self, message: str = "", *, block_id: str | None = None) -> None:
        super().__init__(
            message
            or "PeerCoach is busy right now and nothing was changed. Please try again in a minute.",
            block_id=block_id,
        )


class RoundRaced(Busy):
    """Someone the round seats left, paused or erased their data while the round was being
    made, so none of it was stored; starting it again leaves them out."""

    def __init__(self) -> None:
        super().__init__(
            "Someone left PeerCoach while this round was being made, so it was not started. "
            "Please try again."
        )


class ChooseProgramme(UsageError):
    """The person is in several programmes and the request did not say which one."""

    def __init__(self, names: list[str], typed: str = "status") -> None:
        listed = ", ".join(f"`{n}`" for n in names)
        super().__init__(
            f"You're in more than one programme ({listed}). Add `--programme <name>` to say "
            f"which one, e.g. `/peercoach {typed} --programme {names[0]}`."
        )
        self.names = names

    def for_command(self, typed: str) -> ChooseProgramme:
        """The same question, its example being the command `typed` (`pause 2 weeks`)."""
        return ChooseProgramme(self.names, typed[:80] or "status")
