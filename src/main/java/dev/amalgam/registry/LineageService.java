package dev.amalgam.registry;

import dev.amalgam.registry.entity.Model;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Ancestors ("where did this come from") and descendants ("what was built from it") of a model,
 * transitive with a depth limit, by one recursive SQL query that runs on H2 and PostgreSQL.
 */
@ApplicationScoped
public class LineageService {
    /** Deepest walk a caller may ask for; merges of merges rarely go past a handful of levels. */
    public static final int MAX_DEPTH = 100;

    @Inject
    Session session;

    @Inject
    ModelService models;

    public enum Direction { UP, DOWN }

    /** A model in a lineage answer, at its shortest distance from the start. */
    public record Node(long id, String name, String version, String rootDigest, String license,
                       String status, int depth) {
    }

    /** child was merged from parent, in the given role, by the given method. */
    public record Edge(long child, long parent, String role, String method) {
    }

    /**
     * A base model a model's Hub card declares: the Hub id as written, the relation, and the
     * registered model it resolved to ({@code resolved} null: not registered, shown as unresolved).
     */
    public record Declared(long model, String hubId, String relation, Long resolved) {
    }

    /** {@code declared}: every card declaration of the models in the answer, unresolved ones included. */
    public record Lineage(Node root, Direction direction, int depth, List<Node> nodes, List<Edge> edges,
                          List<Declared> declared) {
    }

    @Transactional
    public Lineage lineage(ModelRef ref, Direction direction, int depth) {
        if (depth < 1 || depth > MAX_DEPTH) {
            throw RegistryException.badRequest("depth must be between 1 and " + MAX_DEPTH + ", not " + depth);
        }
        Model m = models.find(ref);
        Map<Long, Integer> reach = reachable(m.id, direction, depth);
        List<Node> nodes = new ArrayList<>();
        if (!reach.isEmpty()) {
            for (Model x : session.createSelectionQuery("from Model where id in :ids order by id", Model.class)
                    .setParameter("ids", reach.keySet()).getResultList()) {
                nodes.add(node(x, reach.get(x.id)));
            }
            nodes.sort((a, b) -> a.depth() != b.depth() ? Integer.compare(a.depth(), b.depth()) : Long.compare(a.id(), b.id()));
        }
        List<Long> all = new ArrayList<>(reach.keySet());
        all.add(m.id);
        List<Edge> edges = new ArrayList<>();
        for (Object[] r : session.createNativeQuery("""
                        select child_id, parent_id, role, method from lineage_edge
                        where child_id in (:ids) and parent_id in (:ids) order by child_id, parent_id, role""",
                        Object[].class)
                .setParameter("ids", all).getResultList()) {
            edges.add(new Edge(((Number) r[0]).longValue(), ((Number) r[1]).longValue(), (String) r[2], (String) r[3]));
        }
        List<Declared> declared = new ArrayList<>();
        for (Object[] r : session.createNativeQuery("""
                        select model_id, hub_id, relation, parent_id from declared_base_model
                        where model_id in (:ids) order by model_id, hub_id""", Object[].class)
                .setParameter("ids", direction == Direction.UP ? all : List.of(m.id)).getResultList()) {
            declared.add(new Declared(((Number) r[0]).longValue(), (String) r[1], (String) r[2],
                    r[3] == null ? null : ((Number) r[3]).longValue()));
        }
        return new Lineage(node(m, 0), direction, depth, nodes, edges, declared);
    }

    /**
     * Ids reachable from {@code start} within {@code depth} steps, each with its shortest distance.
     * {@code UNION} (not {@code UNION ALL}) keeps one row per (model, depth), so diamonds in the
     * graph cannot multiply the work.
     */
    Map<Long, Integer> reachable(long start, Direction direction, int depth) {
        Map<Long, Integer> out = new HashMap<>();
        for (Object[] r : session.createNativeQuery(reachableSql(direction), Object[].class)
                .setParameter("start", start).setParameter("maxDepth", depth).getResultList()) {
            long id = ((Number) r[0]).longValue();
            if (id != start) out.put(id, ((Number) r[1]).intValue());
        }
        return out;
    }

    /**
     * The recursive query behind every lineage answer (parameters {@code :start}, {@code :maxDepth}):
     * public so the lineage benchmark measures exactly what the service runs.
     */
    public static String reachableSql(Direction direction) {
        String from = direction == Direction.UP ? "child_id" : "parent_id";
        String to = direction == Direction.UP ? "parent_id" : "child_id";
        return """
                with recursive walk(id, depth) as (
                    select %2$s, 1 from lineage_edge where %1$s = :start
                    union
                    select e.%2$s, w.depth + 1 from lineage_edge e join walk w on e.%1$s = w.id
                    where w.depth < :maxDepth
                )
                select id, min(depth) from walk group by id""".formatted(from, to);
    }

    /** Every released model that descends from the given one: what a recall must reach. */
    @Transactional
    public List<Node> releasedDescendants(ModelRef ref) {
        Lineage down = lineage(ref, Direction.DOWN, MAX_DEPTH);
        return down.nodes().stream().filter(n -> "released".equals(n.status())).toList();
    }

    private static Node node(Model m, int depth) {
        return new Node(m.id, m.name, m.version, m.rootDigest, m.license, m.status, depth);
    }
}
