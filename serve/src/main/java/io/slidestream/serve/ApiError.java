package io.slidestream.serve;

/**
 * A request the service refuses, with the HTTP status and a stable code: every refusal of the API
 * is one of these, answered as {@code {"error": {"code": ..., "message": ...}}}.
 */
public final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String code;

    public ApiError(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    static ApiError badRequest(String message) {
        return new ApiError(400, "INVALID_REQUEST", message);
    }

    static ApiError notFound(String code, String message) {
        return new ApiError(404, code, message);
    }
}
