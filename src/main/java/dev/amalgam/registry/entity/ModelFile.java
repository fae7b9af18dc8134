package dev.amalgam.registry.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** One file of a model: its relative path and the blob holding its bytes. */
@Entity
@Table(name = "model_file")
public class ModelFile {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "model_id", nullable = false)
    public Long modelId;

    @Column(nullable = false, length = 1024)
    public String path;

    @Column(name = "blob_digest", nullable = false, length = 64)
    public String blobDigest;

    @Column(name = "size_bytes", nullable = false)
    public long sizeBytes;

    public String format;
}
