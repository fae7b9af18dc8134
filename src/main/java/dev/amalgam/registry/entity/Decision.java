package dev.amalgam.registry.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.OffsetDateTime;

/** A review, gate or release decision about a model or merge. */
@Entity
@Table(name = "decision")
public class Decision {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "model_id")
    public Long modelId;

    @Column(name = "merge_job_id")
    public Long mergeJobId;

    /** review | gate | release */
    @Column(nullable = false)
    public String kind;

    public String environment;

    /** approve | reject | allow | deny | released */
    @Column(nullable = false)
    public String outcome;

    @Column(nullable = false)
    public String actor;

    @Column(length = 100_000)
    public String reason;

    @Column(name = "policy_digest")
    public String policyDigest;

    /** Blob holding the DSSE-signed SLSA verification summary of a gate decision. */
    @Column(name = "statement_digest", length = 64)
    public String statementDigest;

    @Column(name = "decided_at", nullable = false)
    public OffsetDateTime decidedAt;

    @Column(name = "ledger_seq")
    public Long ledgerSeq;

    /** SHA-256 (hex) of the ledger entry's bytes: a truncated or forked ledger no longer has it. */
    @Column(name = "ledger_hash")
    public String ledgerHash;
}
