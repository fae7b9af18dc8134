package dev.amalgam.registry.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.OffsetDateTime;

/** A merge job: the recipe, who asked for it, where it is, and what it produced. */
@Entity
@Table(name = "merge_job")
public class MergeJob {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false, length = 1_000_000)
    public String recipe;

    @Column(nullable = false)
    public String method;

    /** Name and version the output model is registered under. */
    @Column(name = "output_name", nullable = false)
    public String outputName;

    @Column(name = "output_version", nullable = false)
    public String outputVersion;

    /** queued | running | succeeded | failed | cancelled */
    @Column(nullable = false)
    public String state;

    public Double progress;

    @Column(name = "failure_reason", length = 4000)
    public String failureReason;

    public Long seed;

    @Column(name = "submitted_by", nullable = false)
    public String submittedBy;

    @Column(name = "submitted_at", nullable = false)
    public OffsetDateTime submittedAt;

    @Column(name = "started_at")
    public OffsetDateTime startedAt;

    @Column(name = "finished_at")
    public OffsetDateTime finishedAt;

    @Column(name = "output_model_id")
    public Long outputModelId;

    /** Blob holding the DSSE-signed SLSA provenance of the output. */
    @Column(name = "provenance_digest", length = 64)
    public String provenanceDigest;

    @Column(name = "ledger_seq")
    public Long ledgerSeq;

    /** SHA-256 (hex) of the ledger entry's bytes: a truncated or forked ledger no longer has it. */
    @Column(name = "ledger_hash")
    public String ledgerHash;
}
