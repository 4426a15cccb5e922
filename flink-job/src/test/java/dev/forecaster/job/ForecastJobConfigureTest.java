package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/** What the job sets on the environment it is given, and what it leaves to the cluster. */
class ForecastJobConfigureTest {

  @Test
  void theClustersCheckpointStorageStaysWhenNoCheckpointDirIsGiven() {
    Configuration cluster = new Configuration();
    cluster.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "s3://cluster/checkpoints");
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(cluster);

    ForecastJob.configure(env, JobConfig.defaultsOnly());

    assertThat(env.getConfiguration().get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
        .isEqualTo("s3://cluster/checkpoints");
    assertThat(env.getConfiguration().get(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION))
        .isEqualTo(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
  }

  @Test
  void aCheckpointDirGivenToTheJobReplacesTheClusters() {
    Configuration cluster = new Configuration();
    cluster.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "s3://cluster/checkpoints");
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(cluster);

    ForecastJob.configure(env, JobConfig.of(Map.of("checkpoint.dir", "s3://job/checkpoints")));

    assertThat(env.getConfiguration().get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
        .isEqualTo("s3://job/checkpoints");
  }

  @Test
  void theClustersStateBackendStaysUnlessTheJobNamesOne() {
    Configuration cluster = new Configuration();
    cluster.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
    StreamExecutionEnvironment kept = StreamExecutionEnvironment.getExecutionEnvironment(cluster);
    ForecastJob.configure(kept, JobConfig.defaultsOnly());
    assertThat(kept.getConfiguration().get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");

    StreamExecutionEnvironment rocks = StreamExecutionEnvironment.getExecutionEnvironment();
    ForecastJob.configure(rocks, JobConfig.of(Map.of("state.backend", "rocksdb")));
    assertThat(rocks.getConfiguration().get(StateBackendOptions.STATE_BACKEND))
        .isEqualTo("rocksdb");
    assertThat(rocks.getConfiguration().get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isTrue();

    StreamExecutionEnvironment heap = StreamExecutionEnvironment.getExecutionEnvironment(cluster);
    ForecastJob.configure(heap, JobConfig.of(Map.of("state.backend", "hashmap")));
    assertThat(heap.getConfiguration().get(StateBackendOptions.STATE_BACKEND)).isEqualTo("hashmap");
  }
}
