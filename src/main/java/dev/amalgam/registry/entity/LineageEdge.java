package dev.amalgam.registry.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** An edge from a merged model (child) to one of its inputs (parent). */
@Entity
@Table(name = "lineage_edge")
public class LineageEdge {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "child_id", nullable = false)
    public Long childId;

    @Column(name = "parent_id", nullable = false)
    public Long parentId;

    /** {@code base} or {@code input}. */
    @Column(nullable = false)
    public String role;

    @Column(nullable = false)
    public String method;

    @Column(name = "merge_job_id")
    public Long mergeJobId;
}
