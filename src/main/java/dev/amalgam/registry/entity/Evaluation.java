package dev.amalgam.registry.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.OffsetDateTime;

/** An evaluation of a model on a dataset: a job, then its metrics and signed evidence. */
@Entity
@Table(name = "evaluation")
public class Evaluation {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "model_id", nullable = false)
    public Long modelId;

    @Column(nullable = false)
    public String dataset;

    @Column(name = "data_digest", nullable = false)
    public String dataDigest;

    /** queued | running | done | failed */
    @Column(nullable = false)
    public String status;

    @Column(length = 10_000)
    public String error;

    /** The request as JSON: references, seq_len. */
    @Column(nullable = false, length = 10_000)
    public String settings;

    /** The metrics as JSON ({@code EvalResult.toJson}) once done. */
    @Column(length = 100_000)
    public String result;

    @Column(name = "statement_digest", length = 64)
    public String statementDigest;

    @Column(nullable = false)
    public String actor;

    @Column(name = "created_at", nullable = false)
    public OffsetDateTime createdAt;

    @Column(name = "finished_at")
    public OffsetDateTime finishedAt;

    @Column(name = "ledger_seq")
    public Long ledgerSeq;

    @Column(name = "ledger_hash")
    public String ledgerHash;
}
