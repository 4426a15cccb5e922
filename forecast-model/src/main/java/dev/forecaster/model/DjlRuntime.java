package dev.forecaster.model;

import ai.djl.engine.Engine;
import java.nio.file.Path;

/**
 * DJL settings that must be in place before the PyTorch engine starts: never download, never
 * probe the network, a writable cache the project owns, and one intra-op and one inter-op
 * thread (a Flink job scales with parallelism, not with threads inside one forward pass).
 * A value the user set on the JVM command line wins.
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
      setIfAbsent("DJL_CACHE_DIR", Path.of(System.getProperty("java.io.tmpdir"), "forecaster-djl").toString());
    }
    return Engine.getEngine("PyTorch");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
