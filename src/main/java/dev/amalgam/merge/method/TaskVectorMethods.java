package dev.amalgam.merge.method;

import static dev.amalgam.merge.method.TaskVectorMethod.Config.named;
import static dev.amalgam.merge.method.TaskVectorMethod.Sparsify.DELLA;
import static dev.amalgam.merge.method.TaskVectorMethod.Sparsify.MAGNITUDE;
import static dev.amalgam.merge.method.TaskVectorMethod.Sparsify.MAGNITUDE_OUTLIERS;
import static dev.amalgam.merge.method.TaskVectorMethod.Sparsify.RANDOM;

/** The task-vector methods, one configuration each (defaults as in mergekit). */
final class TaskVectorMethods {
    static final TaskVectorMethod TASK_ARITHMETIC = new TaskVectorMethod(
            named("task_arithmetic", "https://arxiv.org/abs/2212.04089"));
    static final TaskVectorMethod TIES = new TaskVectorMethod(
            named("ties", "https://arxiv.org/abs/2306.01708").sparsify(MAGNITUDE).signConsensus().normalizeByDefault());
    static final TaskVectorMethod DARE_TIES = new TaskVectorMethod(
            named("dare_ties", "https://arxiv.org/abs/2311.03099").sparsify(RANDOM).signConsensus().rescaleByDefault());
    static final TaskVectorMethod DARE_LINEAR = new TaskVectorMethod(
            named("dare_linear", "https://arxiv.org/abs/2311.03099").sparsify(RANDOM).rescaleByDefault());
    static final TaskVectorMethod BREADCRUMBS = new TaskVectorMethod(
            named("breadcrumbs", "https://arxiv.org/abs/2312.06795").sparsify(MAGNITUDE_OUTLIERS));
    static final TaskVectorMethod BREADCRUMBS_TIES = new TaskVectorMethod(
            named("breadcrumbs_ties", "https://arxiv.org/abs/2312.06795").sparsify(MAGNITUDE_OUTLIERS).signConsensus());
    static final TaskVectorMethod DELLA_TIES = new TaskVectorMethod(
            named("della", "https://arxiv.org/abs/2406.11617").sparsify(DELLA).signConsensus().normalizeByDefault()
                    .rescaleByDefault());
    static final TaskVectorMethod DELLA_LINEAR = new TaskVectorMethod(
            named("della_linear", "https://arxiv.org/abs/2406.11617").sparsify(DELLA).rescaleByDefault());

    private TaskVectorMethods() {
    }
}
