"""Service errors; blueprints translate them to HTTP status codes and the JSON error shape."""


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(ServiceError):
    status, code = 404, "not_found"


class Forbidden(ServiceError):
    status, code = 403, "forbidden"


class Conflict(ServiceError):
    status, code = 409, "conflict"


class Invalid(ServiceError):
    status, code = 422, "invalid"


class Ineligible(ServiceError):
    status, code = 422, "ineligible"


class Unauthorized(ServiceError):
    status, code = 401, "unauthorized"


class TooLarge(ServiceError):
    status, code = 413, "too_large"


class UnsupportedType(ServiceError):
    status, code = 415, "unsupported_type"


class Unavailable(ServiceError):
    status, code = 503, "unavailable"
