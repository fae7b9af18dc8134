package dev.amalgam.registry.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.OffsetDateTime;

/** A registered model: a source model or a merge output, identified by its OMS root digest. */
@Entity
@Table(name = "model")
public class Model {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false)
    public String name;

    @Column(nullable = false)
    public String version;

    /** {@code sha256:<hex>} root digest of the OMS manifest. */
    @Column(name = "root_digest", nullable = false, unique = true)
    public String rootDigest;

    @Column(nullable = false)
    public String license;

    /** {@code source} or {@code merge}. */
    @Column(nullable = false)
    public String origin;

    /** registered | pending-review | approved | rejected | released | revoked */
    @Column(nullable = false)
    public String status;

    @Column(name = "size_bytes", nullable = false)
    public long sizeBytes;

    @Column(name = "file_count", nullable = false)
    public int fileCount;

    @Column(name = "scan_verdict")
    public String scanVerdict;

    /** Whether every float tensor is finite: passed | failed | not-checked. */
    @Column(name = "finite_weights")
    public String finiteWeights;

    /** Blob holding the scan report (JSON, docs/security.md schema). */
    @Column(name = "scan_report_digest", length = 64)
    public String scanReportDigest;

    /** Blob holding the registry's OMS signature bundle over this model ({@code model.sig}). */
    @Column(name = "signature_digest", length = 64)
    public String signatureDigest;

    /** The publisher's signature that came with the model: missing | trusted | untrusted | invalid. */
    @Column(name = "publisher_signature", nullable = false)
    public String publisherSignature = "missing";

    @Column(name = "publisher_key")
    public String publisherKey;

    @Column(name = "registered_at", nullable = false)
    public OffsetDateTime registeredAt;

    @Column(name = "registered_by", nullable = false)
    public String registeredBy;

    /** {@code hf://ORG/NAME@REVISION} when the model came from a Hugging Face repository, else null. */
    @Column(name = "hub_source")
    public String hubSource;

    @Column(name = "ledger_seq")
    public Long ledgerSeq;

    /** SHA-256 (hex) of the ledger entry's bytes: a truncated or forked ledger no longer has it. */
    @Column(name = "ledger_hash")
    public String ledgerHash;
}
