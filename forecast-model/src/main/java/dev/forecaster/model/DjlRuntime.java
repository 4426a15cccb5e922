package dev.forecaster.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.util.Utils;
import java.nio.file.Path;

/**
 * DJL settings that must be in place before the PyTorch engine starts: never download, never probe
 * the network, a writable cache the project owns, and one intra-op and one inter-op thread (a Flink
 * job scales with parallelism, not with threads inside one forward pass). A value the user set on
 * the JVM command line wins.
 */
public final class DjlRuntime {

  private DjlRuntime() {}

  /** Applies the defaults, then starts (or returns) the PyTorch engine. */
  public static synchronized Engine engine() {
    setIfAbsent("ai.djl.offline", "true");
    setIfAbsent("OPT_OUT_TRACKING", "true"); // DJL reads it as env var or system property
    setIfAbsent("ai.djl.pytorch.num_threads", "1");
    setIfAbsent("ai.djl.pytorch.num_interop_threads", "1");
    if (System.getenv("DJL_CACHE_DIR") == null) {
      setIfAbsent(
          "DJL_CACHE_DIR",
          Path.of(System.getProperty("java.io.tmpdir"), "forecaster-djl").toString());
    }
    return Engine.getEngine("PyTorch");
  }

  /**
   * Starts the engine, runs one operation on the CPU and prints what was loaded from where. The
   * Docker images run it when they are built (see docs/DEPLOY.md), so a native library that does
   * not load fails the image build instead of a task manager's first forward pass.
   */
  public static void main(String[] args) {
    Engine engine = engine();
    float sum;
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      sum = manager.ones(new Shape(2, 2)).sum().getFloat();
    }
    System.out.printf(
        "DJL %s, PyTorch %s from %s, offline=%s, cache %s; GPUs visible: %d; 2x2 ones sum to"
            + " %.0f%n",
        Engine.getDjlVersion(),
        engine.getVersion(),
        LibUtils.getLibtorchPath(),
        System.getProperty("ai.djl.offline"),
        Utils.getEngineCacheDir("pytorch"),
        engine.getGpuCount(),
        sum);
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
