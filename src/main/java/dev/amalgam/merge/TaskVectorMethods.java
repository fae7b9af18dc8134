package dev.amalgam.merge;

/** The task-vector methods, one small declaration each (defaults as in mergekit). */
final class TaskVectorMethods {
    private TaskVectorMethods() {
    }

    static final class TaskArithmetic extends TaskVectorMethod {
        TaskArithmetic() {
            super("task_arithmetic", "https://arxiv.org/abs/2212.04089", false, Sparsify.NONE, false, false);
        }
    }

    static final class Ties extends TaskVectorMethod {
        Ties() {
            super("ties", "https://arxiv.org/abs/2306.01708", true, Sparsify.MAGNITUDE, true, false);
        }
    }

    static final class DareTies extends TaskVectorMethod {
        DareTies() {
            super("dare_ties", "https://arxiv.org/abs/2311.03099", true, Sparsify.RANDOM, false, true);
        }
    }

    static final class DareLinear extends TaskVectorMethod {
        DareLinear() {
            super("dare_linear", "https://arxiv.org/abs/2311.03099", false, Sparsify.RANDOM, false, true);
        }
    }

    static final class Breadcrumbs extends TaskVectorMethod {
        Breadcrumbs() {
            super("breadcrumbs", "https://arxiv.org/abs/2312.06795", false, Sparsify.MAGNITUDE_OUTLIERS, false, false);
        }
    }

    static final class BreadcrumbsTies extends TaskVectorMethod {
        BreadcrumbsTies() {
            super("breadcrumbs_ties", "https://arxiv.org/abs/2312.06795", true, Sparsify.MAGNITUDE_OUTLIERS, false, false);
        }
    }

    static final class Della extends TaskVectorMethod {
        Della() {
            super("della", "https://arxiv.org/abs/2406.11617", true, Sparsify.DELLA, true, true);
        }
    }

    static final class DellaLinear extends TaskVectorMethod {
        DellaLinear() {
            super("della_linear", "https://arxiv.org/abs/2406.11617", false, Sparsify.DELLA, false, true);
        }
    }
}
