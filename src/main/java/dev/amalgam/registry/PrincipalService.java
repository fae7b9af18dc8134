package dev.amalgam.registry;

import dev.amalgam.registry.entity.ApiPrincipal;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * API principals and their bearer tokens. A token is 32 random bytes shown once at creation;
 * only its SHA-256 is stored (a random 256-bit secret needs no salt or slow hash).
 */
@ApplicationScoped
public class PrincipalService {
    /** Prefix that makes leaked tokens easy to recognise in logs and secret scanners. */
    static final String TOKEN_PREFIX = "amg_";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    private static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    Session session;

    /** A principal as shown to admins: never the token. */
    public record PrincipalView(String name, Set<Role> roles, OffsetDateTime createdAt,
                                String createdBy, boolean revoked) {
    }

    /** A new principal and its token, which is never shown again. */
    public record Created(PrincipalView principal, String token) {
    }

    @Transactional
    public Created create(String name, Set<Role> roles, String createdBy) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new RegistryException(RegistryException.Kind.INVALID, "invalid principal name '"
                    + name + "': 1-100 characters of letters, digits, '.', '_' or '-'");
        }
        if (findByName(name).isPresent()) {
            throw new RegistryException(RegistryException.Kind.CONFLICT,
                    "a principal named '" + name + "' already exists");
        }
        String token = newToken();
        ApiPrincipal p = new ApiPrincipal();
        p.name = name;
        p.roles = Role.format(roles);
        p.tokenHash = hash(token);
        p.createdAt = OffsetDateTime.now(ZoneOffset.UTC);
        p.createdBy = createdBy;
        session.persist(p);
        return new Created(view(p), token);
    }

    /** The caller a token belongs to, if the token is known and not revoked. */
    @Transactional
    public Optional<Caller> authenticate(String token) {
        if (token == null || !token.startsWith(TOKEN_PREFIX) || token.length() > 200) {
            return Optional.empty();
        }
        return session.createSelectionQuery(
                        "from ApiPrincipal where tokenHash = :h and revokedAt is null", ApiPrincipal.class)
                .setParameter("h", hash(token))
                .uniqueResultOptional()
                .map(p -> new Caller(p.name, Role.parseList(p.roles)));
    }

    @Transactional
    public List<PrincipalView> list() {
        return session.createSelectionQuery("from ApiPrincipal order by name", ApiPrincipal.class)
                .getResultList().stream().map(PrincipalService::view).toList();
    }

    @Transactional
    public PrincipalView revoke(String name) {
        ApiPrincipal p = findByName(name).orElseThrow(() -> new RegistryException(
                RegistryException.Kind.NOT_FOUND, "no principal named '" + name + "'"));
        if (p.revokedAt == null) p.revokedAt = OffsetDateTime.now(ZoneOffset.UTC);
        return view(p);
    }

    @Transactional
    public boolean exists(String name) {
        return findByName(name).isPresent();
    }

    private Optional<ApiPrincipal> findByName(String name) {
        return session.createSelectionQuery("from ApiPrincipal where name = :n", ApiPrincipal.class)
                .setParameter("n", name).uniqueResultOptional();
    }

    private static PrincipalView view(ApiPrincipal p) {
        return new PrincipalView(p.name, Role.parseList(p.roles), p.createdAt, p.createdBy,
                p.revokedAt != null);
    }

    static String newToken() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return TOKEN_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** Hex SHA-256 of a token: what the database stores. */
    public static String hash(String token) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
