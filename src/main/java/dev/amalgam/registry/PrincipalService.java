package dev.amalgam.registry;

import dev.amalgam.ledger.event.LedgerEvent;
import dev.amalgam.ledger.event.PrincipalCreated;
import dev.amalgam.ledger.event.PrincipalRevoked;
import dev.amalgam.ledger.event.PrincipalTokenReset;
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

    @Inject
    LedgerService ledger;

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
            throw RegistryException.badRequest("invalid principal name '"
                    + name + "': 1-100 characters of letters, digits, '.', '_' or '-'");
        }
        if (findByName(name).isPresent()) {
            throw RegistryException.conflict("a principal named '" + name + "' already exists");
        }
        String token = newToken();
        ApiPrincipal p = new ApiPrincipal();
        p.name = name;
        p.roles = Role.format(roles);
        p.tokenHash = hash(token);
        p.createdAt = OffsetDateTime.now(ZoneOffset.UTC);
        p.createdBy = createdBy;
        session.persist(p);
        record(p, createdBy, new PrincipalCreated(p.name, p.roles, p.createdBy, p.createdAt.toString()));
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

    /** The caller a principal name stands for while it is not revoked: console sessions re-check it per request. */
    @Transactional
    public Optional<Caller> active(String name) {
        return findByName(name).filter(p -> p.revokedAt == null).map(p -> new Caller(p.name, Role.parseList(p.roles)));
    }

    @Transactional
    public List<PrincipalView> list() {
        return session.createSelectionQuery("from ApiPrincipal order by name", ApiPrincipal.class)
                .getResultList().stream().map(PrincipalService::view).toList();
    }

    /** Revokes a principal's token (by an unnamed admin: in-process callers). */
    @Transactional
    public PrincipalView revoke(String name) {
        return revoke(name, "admin");
    }

    /** Revokes a principal's token; {@code actor} is the admin who asked, as the ledger records it. */
    @Transactional
    public PrincipalView revoke(String name, String actor) {
        ApiPrincipal p = findByName(name).orElseThrow(() -> RegistryException.notFound("no principal named '" + name + "'"));
        if (p.revokedAt != null) return view(p);
        if (Role.parseList(p.roles).contains(Role.ADMIN) && activeAdmins() <= 1) {
            throw RegistryException.conflict("'" + name + "' is the last admin: revoking it would leave "
                    + "nobody able to manage tokens or run the audit. Create another admin first; a lost admin token is "
                    + "recovered with 'amalgam admin reset-token' (docs/operations.md)");
        }
        p.revokedAt = OffsetDateTime.now(ZoneOffset.UTC);
        record(p, actor, new PrincipalRevoked(p.name, p.revokedAt.toString()));
        return view(p);
    }

    /**
     * Gives a principal a new token (the old one stops working), recorded in the ledger: the recovery for
     * a lost admin token, and for tokens after a database rebuilt from the ledger (which never holds them).
     */
    @Transactional
    public Created resetToken(String name, String reason) {
        ApiPrincipal p = findByName(name).orElseThrow(() -> RegistryException.notFound("no principal named '" + name + "'"));
        String token = newToken();
        p.tokenHash = hash(token);
        p.revokedAt = null;
        record(p, "data-directory", new PrincipalTokenReset(p.name, reason, OffsetDateTime.now(ZoneOffset.UTC).toString()));
        return new Created(view(p), token);
    }

    /** Whether the principal's token was lost with a database rebuilt from the ledger. */
    @Transactional
    public boolean tokenLost(String name) {
        return findByName(name).map(p -> p.tokenHash.equals(lostToken(p.name))).orElse(false);
    }

    /** The token hash a principal rebuilt from the ledger gets: no token hashes to it (it is not hex). */
    static String lostToken(String name) {
        return ("lost:" + hash(name)).substring(0, 64);
    }

    private long activeAdmins() {
        return session.createSelectionQuery("from ApiPrincipal where revokedAt is null", ApiPrincipal.class).getResultList()
                .stream().filter(a -> Role.parseList(a.roles).contains(Role.ADMIN)).count();
    }

    private void record(ApiPrincipal p, String actor, LedgerEvent event) {
        var receipt = ledger.append(actor == null ? "unknown" : actor, event);
        p.ledgerSeq = receipt.seq();
        p.ledgerHash = receipt.entryHash();
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
