package io.slidestream.serve;

/** What a bearer token is checked against: a token file, or an OpenID Connect provider's keys. */
interface Credentials {
    /**
     * The user {@code token} belongs to, or null when it is not valid; an {@link ApiError} (503)
     * when it cannot be checked now.
     */
    String user(String token);

    /** What a valid token is, for the 401 answer: "a token of serve.auth-tokens". */
    String expected();
}
