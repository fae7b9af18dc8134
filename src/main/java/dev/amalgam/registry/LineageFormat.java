package dev.amalgam.registry;

import java.util.ArrayList;
import java.util.List;

/** Renders a lineage as Graphviz DOT or a Mermaid flowchart (edges point from input to merge). */
public final class LineageFormat {
    private LineageFormat() {
    }

    public static String dot(LineageService.Lineage l) {
        StringBuilder b = new StringBuilder("digraph lineage {\n  rankdir=LR;\n  node [shape=box];\n");
        for (LineageService.Node n : nodes(l)) {
            b.append("  m").append(n.id()).append(" [label=\"").append(escape(label(n))).append("\"")
                    .append(n.depth() == 0 ? ", style=bold" : "").append("];\n");
        }
        for (LineageService.Edge e : l.edges()) {
            b.append("  m").append(e.parent()).append(" -> m").append(e.child())
                    .append(" [label=\"").append(escape(e.role() + " / " + e.method())).append("\"];\n");
        }
        int i = 0;
        for (LineageService.Declared d : unresolved(l)) {
            b.append("  u").append(i).append(" [label=\"").append(escape(d.hubId() + " (not registered)"))
                    .append("\", style=dashed];\n  u").append(i).append(" -> m").append(d.model())
                    .append(" [label=\"declared / ").append(escape(d.relation())).append("\", style=dashed];\n");
            i++;
        }
        return b.append("}\n").toString();
    }

    public static String mermaid(LineageService.Lineage l) {
        StringBuilder b = new StringBuilder("flowchart LR\n");
        for (LineageService.Node n : nodes(l)) {
            b.append("  m").append(n.id()).append("[\"").append(label(n).replace("\"", "#quot;")).append("\"]\n");
        }
        for (LineageService.Edge e : l.edges()) {
            b.append("  m").append(e.parent()).append(" -->|").append(e.role()).append(' ')
                    .append(e.method().replace("|", "/")).append("| m").append(e.child()).append('\n');
        }
        int i = 0;
        for (LineageService.Declared d : unresolved(l)) {
            b.append("  u").append(i).append("[\"").append((d.hubId() + " (not registered)").replace("\"", "#quot;"))
                    .append("\"]\n  u").append(i).append(" -.->|declared ").append(d.relation().replace("|", "/"))
                    .append("| m").append(d.model()).append('\n');
            i++;
        }
        return b.toString();
    }

    /** Declared ancestors no registered model answers to: drawn dashed, so the gap shows. */
    private static List<LineageService.Declared> unresolved(LineageService.Lineage l) {
        return l.declared().stream().filter(d -> d.resolved() == null).toList();
    }

    private static List<LineageService.Node> nodes(LineageService.Lineage l) {
        List<LineageService.Node> all = new ArrayList<>();
        all.add(l.root());
        all.addAll(l.nodes());
        return all;
    }

    private static String label(LineageService.Node n) {
        return n.name() + "@" + n.version() + " (" + n.license() + ", " + n.status() + ")";
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
