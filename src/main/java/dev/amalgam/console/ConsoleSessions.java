package dev.amalgam.console;

import dev.amalgam.registry.Role;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Console sessions, held in memory: a sign-in trades an API token for a random session id (the cookie),
 * and only the id's SHA-256 is a key here. A restart signs everybody out, which is what a registry
 * whose tokens are the real credential wants; several instances would need sticky routing.
 */
@ApplicationScoped
public class ConsoleSessions {
    /** A session ends this long after sign-in, whatever happens. */
    public static final Duration ABSOLUTE = Duration.ofHours(8);
    /** A session ends after this long without a request. */
    public static final Duration IDLE = Duration.ofMinutes(30);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, Session> byIdHash = new ConcurrentHashMap<>();
    private final Clock clock = Clock.systemUTC();

    /** One signed-in principal; the CSRF token is the synchroniser token of every form it posts. */
    public static final class Session {
        final String principal;
        final Set<Role> roles;
        final String csrf;
        final Instant created;
        volatile Instant lastSeen;
        volatile String flash;

        Session(String principal, Set<Role> roles, String csrf, Instant now) {
            this.principal = principal;
            this.roles = Set.copyOf(roles);
            this.csrf = csrf;
            this.created = now;
            this.lastSeen = now;
        }

        public String principal() {
            return principal;
        }

        public String csrf() {
            return csrf;
        }
    }

    /** A new session for the principal; returns the cookie value (never stored). */
    public String open(String principal, Set<Role> roles) {
        String id = random();
        byIdHash.put(hash(id), new Session(principal, roles, random(), clock.instant()));
        expireOld();
        return id;
    }

    /** The live session of a cookie value, touched; empty when unknown or expired (then removed). */
    public Optional<Session> find(String cookie) {
        if (cookie == null || cookie.length() != 43) return Optional.empty();
        String key = hash(cookie);
        Session s = byIdHash.get(key);
        if (s == null) return Optional.empty();
        Instant now = clock.instant();
        if (expired(s, now)) {
            byIdHash.remove(key);
            return Optional.empty();
        }
        s.lastSeen = now;
        return Optional.of(s);
    }

    public void close(String cookie) {
        if (cookie != null) byIdHash.remove(hash(cookie));
    }

    /** Ends every session of a principal (revoked). */
    public void closeAll(String principal) {
        byIdHash.values().removeIf(s -> s.principal.equals(principal));
    }

    int size() {
        return byIdHash.size();
    }

    private void expireOld() {
        Instant now = clock.instant();
        byIdHash.values().removeIf(s -> expired(s, now));
    }

    private static boolean expired(Session s, Instant now) {
        return now.isAfter(s.created.plus(ABSOLUTE)) || now.isAfter(s.lastSeen.plus(IDLE));
    }

    /** 32 random bytes, base64url without padding (43 characters). */
    static String random() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** Constant-time comparison of two tokens (CSRF checks). */
    static boolean same(String expected, String given) {
        if (expected == null || given == null) return false;
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    private static String hash(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
