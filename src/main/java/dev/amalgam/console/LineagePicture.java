package dev.amalgam.console;

import dev.amalgam.registry.LineageService;
import org.eclipse.elk.alg.layered.options.LayeredMetaDataProvider;
import org.eclipse.elk.alg.layered.options.LayeredOptions;
import org.eclipse.elk.core.RecursiveGraphLayoutEngine;
import org.eclipse.elk.core.data.LayoutMetaDataService;
import org.eclipse.elk.core.options.CoreOptions;
import org.eclipse.elk.core.options.Direction;
import org.eclipse.elk.core.util.BasicProgressMonitor;
import org.eclipse.elk.graph.ElkEdge;
import org.eclipse.elk.graph.ElkEdgeSection;
import org.eclipse.elk.graph.ElkNode;
import org.eclipse.elk.graph.util.ElkGraphUtil;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * A model's lineage laid out by the Eclipse Layout Kernel's layered (Sugiyama) algorithm: ancestors
 * above, descendants below, edges routed orthogonally. The result is plain coordinates; the Qute
 * template draws the SVG, so every label is escaped like any other value.
 */
final class LineagePicture {
    static final int NODE_W = 190;
    static final int NODE_H = 48;
    /** Past this many models the picture would be unreadable: the page lists the rest instead. */
    static final int MAX_NODES = 250;

    static {
        LayoutMetaDataService.getInstance().registerLayoutMetaDataProviders(new LayeredMetaDataProvider());
    }

    private LineagePicture() {
    }

    /** A box: a model, with the classes the stylesheet marks (kind, status, license class). */
    record Box(long id, int x, int y, int w, int h, String label, String license, String licenseClass,
               String kind, String status, boolean current, String title) {
        public int textX() {
            return x + 8;
        }

        public int line1() {
            return y + 19;
        }

        public int line2() {
            return y + 37;
        }

        public String css() {
            return "node " + kind + " " + status + (current ? " current" : "");
        }
    }

    /** An edge from parent to child, as an SVG path, with its role (base, input, tokenizer). */
    record Line(String path, String role, String title) {
    }

    record Picture(int width, int height, List<Box> boxes, List<Line> lines, boolean truncated) {
    }

    /** Lays out nodes (a model id to its node) and edges (child, parent, role). */
    static Picture layout(long current, Map<Long, LineageService.Node> nodes, List<LineageService.Edge> edges,
                          Function<LineageService.Node, String> kindOf, Function<String, String> licenseClass) {
        ElkNode graph = ElkGraphUtil.createGraph();
        graph.setProperty(CoreOptions.ALGORITHM, LayeredOptions.ALGORITHM_ID);
        graph.setProperty(CoreOptions.DIRECTION, Direction.DOWN);
        graph.setProperty(LayeredOptions.SPACING_NODE_NODE, 24.0);
        graph.setProperty(LayeredOptions.SPACING_NODE_NODE_BETWEEN_LAYERS, 40.0);
        graph.setProperty(CoreOptions.PADDING, new org.eclipse.elk.core.math.ElkPadding(12));
        Map<Long, ElkNode> elk = new LinkedHashMap<>();
        boolean truncated = false;
        for (LineageService.Node n : nodes.values()) {
            if (elk.size() >= MAX_NODES && n.id() != current) {
                truncated = true;
                continue;
            }
            ElkNode e = ElkGraphUtil.createNode(graph);
            e.setDimensions(NODE_W, NODE_H);
            elk.put(n.id(), e);
        }
        Map<ElkEdge, LineageService.Edge> edgeOf = new LinkedHashMap<>();
        for (LineageService.Edge e : edges) {
            ElkNode parent = elk.get(e.parent());
            ElkNode child = elk.get(e.child());
            if (parent == null || child == null) continue;
            edgeOf.put(ElkGraphUtil.createSimpleEdge(parent, child), e);
        }
        new RecursiveGraphLayoutEngine().layout(graph, new BasicProgressMonitor());
        List<Box> boxes = new ArrayList<>();
        elk.forEach((id, e) -> {
            LineageService.Node n = nodes.get(id);
            String label = n.name() + "@" + n.version();
            boxes.add(new Box(id, (int) Math.round(e.getX()), (int) Math.round(e.getY()), NODE_W, NODE_H,
                    shorten(label, 26), shorten(n.license(), 28), licenseClass.apply(n.license()), kindOf.apply(n),
                    n.status().toLowerCase(Locale.ROOT), id == current,
                    label + " (" + kindOf.apply(n) + ", " + n.status() + ", " + n.license() + ")"));
        });
        List<Line> lines = new ArrayList<>();
        edgeOf.forEach((edge, e) -> {
            StringBuilder d = new StringBuilder();
            for (ElkEdgeSection s : edge.getSections()) {
                d.append("M").append(r(s.getStartX())).append(' ').append(r(s.getStartY()));
                s.getBendPoints().forEach(b -> d.append(" L").append(r(b.getX())).append(' ').append(r(b.getY())));
                d.append(" L").append(r(s.getEndX())).append(' ').append(r(s.getEndY())).append(' ');
            }
            lines.add(new Line(d.toString().strip(), e.role(), e.role()
                    + (e.method() == null ? "" : " (" + e.method() + ")")));
        });
        return new Picture((int) Math.ceil(graph.getWidth()), (int) Math.ceil(graph.getHeight()), boxes, lines, truncated);
    }

    private static long r(double v) {
        return Math.round(v);
    }

    private static String shorten(String s, int max) {
        if (s == null) return "";
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
