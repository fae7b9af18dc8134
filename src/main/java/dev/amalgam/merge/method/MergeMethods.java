package dev.amalgam.merge.method;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The one registry of merge methods, by recipe name. */
public final class MergeMethods {
    private static final Map<String, MergeMethod> METHODS = new LinkedHashMap<>();

    static {
        for (MergeMethod m : List.of(new Linear(), new Slerp(), TaskVectorMethods.TASK_ARITHMETIC,
                TaskVectorMethods.TIES, TaskVectorMethods.DARE_TIES, TaskVectorMethods.DARE_LINEAR,
                TaskVectorMethods.BREADCRUMBS, TaskVectorMethods.BREADCRUMBS_TIES, new ModelStock(),
                new Passthrough(),
                TaskVectorMethods.DELLA_TIES,
                TaskVectorMethods.DELLA_LINEAR,
                new Sce(),
                new NuSlerp(),
                new MultiSlerp(),
                new Karcher(),
                new NearSwap(),
                new ArceeFusion(),
                Ram.plain(),
                Ram.plusTensorLocal(),
                new Dam())) {
            METHODS.put(m.name(), m);
        }
    }

    private MergeMethods() {
    }

    public static Optional<MergeMethod> find(String name) {
        return Optional.ofNullable(METHODS.get(name));
    }

    public static List<MergeMethod> all() {
        return List.copyOf(METHODS.values());
    }
}
