package io.slidestream.serve;

import io.slidestream.config.ServeOptions;
import io.slidestream.errors.InvalidConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The users and their tokens of {@code serve.auth-tokens}: one {@code user:token} per line, {@code
 * #} starting a comment. The file is read again when its modification time or size changes, so
 * tokens are added and revoked without a restart; a file that cannot be read keeps the last good
 * tokens (and says so in the log). Tokens are compared in constant time and never logged.
 */
final class TokenFile implements Credentials {
    private static final Logger LOG = LoggerFactory.getLogger(TokenFile.class);

    private final Path file;
    private FileTime readAt;
    private long readSize = -1;
    private Map<String, String> userByToken = Map.of();

    TokenFile(Path file) {
        this.file = file;
        if (file == null || !Files.isRegularFile(file)) {
            throw InvalidConfig.because(
                    "serve.auth=token needs serve.auth-tokens: a file of user:token lines, got "
                            + file);
        }
        refresh();
        if (userByToken.isEmpty()) {
            throw InvalidConfig.because("serve.auth-tokens " + file + " holds no user:token line");
        }
    }

    @Override
    public synchronized String user(String token) {
        refresh();
        byte[] given = token.getBytes(StandardCharsets.UTF_8);
        String found = null;
        for (Map.Entry<String, String> e : userByToken.entrySet()) {
            if (MessageDigest.isEqual(given, e.getKey().getBytes(StandardCharsets.UTF_8))) {
                found = e.getValue();
            }
        }
        return found;
    }

    @Override
    public String expected() {
        return "a token of " + ServeOptions.AUTH_TOKENS.key();
    }

    private synchronized void refresh() {
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            long size = Files.size(file);
            if (modified.equals(readAt) && size == readSize) {
                return;
            }
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            Map<String, String> fresh = new LinkedHashMap<>();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                int colon = line.indexOf(':');
                if (colon <= 0 || colon == line.length() - 1) {
                    LOG.warn("{} line {} is not user:token; it is skipped", file, i + 1);
                    continue;
                }
                fresh.put(line.substring(colon + 1).strip(), line.substring(0, colon).strip());
            }
            userByToken = fresh;
            readAt = modified;
            readSize = size;
            LOG.info("Read {} user token(s) from {}", fresh.size(), file);
        } catch (IOException e) {
            LOG.warn("Reading {} failed, the last tokens read stay: {}", file, e.toString());
        }
    }
}
