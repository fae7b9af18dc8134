package dev.amalgam.registry.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.OffsetDateTime;

/** A caller of the API: a name, its roles and the SHA-256 of its bearer token. */
@Entity
@Table(name = "api_principal")
public class ApiPrincipal {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false, unique = true)
    public String name;

    /** Comma-separated role names, e.g. {@code submitter,reviewer}. */
    @Column(nullable = false)
    public String roles;

    @Column(name = "token_hash", nullable = false, unique = true, length = 64)
    public String tokenHash;

    @Column(name = "created_at", nullable = false)
    public OffsetDateTime createdAt;

    @Column(name = "created_by")
    public String createdBy;

    @Column(name = "revoked_at")
    public OffsetDateTime revokedAt;

    /** The ledger entry of the principal's creation or latest revocation or token reset. */
    @Column(name = "ledger_seq")
    public Long ledgerSeq;

    @Column(name = "ledger_hash")
    public String ledgerHash;
}
