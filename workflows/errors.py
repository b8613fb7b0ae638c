class DiagramError(Exception):
    """A diagram refused at upload/parse time; `errors` is a list of {element, message}."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("; ".join(f"{e.get('element') or '-'}: {e['message']}" for e in errors))


class EngineError(Exception):
    """The engine reached a state we refuse to accept (e.g. silent completion)."""


class TaskNotReady(Exception):
    """The user task is not waiting for a person (completed, cancelled, or unknown)."""


class MessageNotCaught(EngineError):
    """No catch event of the instance took the message (its correlation keys do not match the case's): the
    sender's mistake, not a failure of a step."""
