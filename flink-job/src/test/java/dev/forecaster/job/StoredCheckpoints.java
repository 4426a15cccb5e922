package dev.forecaster.job;

import java.nio.file.Path;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;

/** Checkpoints of earlier builds, kept under {@code src/test/resources/state}. */
final class StoredCheckpoints {

  private StoredCheckpoints() {}

  /**
   * Restores {@code file} into {@code harness} and opens it: on RocksDB when the file's name says
   * RocksDB wrote it (the heap backend's checkpoints and RocksDB's are not each other's format).
   */
  static void restoreAndOpen(AbstractStreamOperatorTestHarness<?> harness, String file)
      throws Exception {
    if (file.contains("rocksdb")) {
      harness.setStateBackend(new EmbeddedRocksDBStateBackend());
    }
    harness.initializeState(
        OperatorSnapshotUtil.readStateHandle(
            Path.of(StoredCheckpoints.class.getResource("/state/" + file).toURI()).toString()));
    harness.open();
  }
}
