package dev.forecaster.job;

import ai.djl.Device;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.model.DjlRuntime;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelArtifactException;
import dev.forecaster.model.ModelUpdates;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded copy of each model version per job class loader, shared by the job's subtasks in a
 * task manager and counted: the last subtask to let go of a version closes it (its native memory
 * goes with it). The job's classes are loaded anew at every restart, so a restarted job loads its
 * models again; DJL itself stays in Flink's lib/. Each subtask still makes its own predictor from a
 * model, predictors not being thread-safe.
 */
public final class SharedModels {

  private static final Logger LOG = LoggerFactory.getLogger(SharedModels.class);
  private static final Map<String, Entry> LOADED = new HashMap<>();
  private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();

  private static final class Entry {
    final LoadedModel model;
    int users;

    Entry(LoadedModel model) {
      this.model = model;
    }
  }

  private SharedModels() {}

  /** The identity of a version: name, version and checksum. */
  public static String key(ModelUpdate update) {
    return update.getModelName() + "@" + update.getVersion() + "#" + update.getSha256();
  }

  /** The loaded model of an update, loading (and verifying) it if no one in this JVM has yet. */
  public static synchronized LoadedModel acquire(ModelUpdate update, JobOptions.Device choice)
      throws ModelArtifactException {
    Entry entry = LOADED.get(key(update));
    if (entry == null) {
      Device device = device(choice);
      entry = new Entry(ModelUpdates.load(update, device));
      LOADED.put(key(update), entry);
      LOG.info("loaded model {} v{} on {}", update.getModelName(), update.getVersion(), device);
    }
    entry.users++;
    return entry.model;
  }

  public static synchronized void release(ModelUpdate update) {
    Entry entry = LOADED.get(key(update));
    if (entry != null && --entry.users == 0) {
      LOADED.remove(key(update));
      entry.model.close();
      LOG.info("closed model {} v{}", update.getModelName(), update.getVersion());
    }
  }

  /** Versions loaded by this job's classes in this JVM (the {@code modelVersionsLoaded} metric). */
  static synchronized int loadedVersions() {
    return LOADED.size();
  }

  /**
   * The device to score on: a GPU when asked for (or auto) and present, the CPU otherwise.
   *
   * @throws IllegalStateException for {@code device=gpu} when PyTorch sees no GPU
   */
  public static Device device(JobOptions.Device choice) {
    if (choice == JobOptions.Device.CPU) {
      return Device.cpu();
    }
    int gpus = DjlRuntime.engine().getGpuCount();
    if (gpus > 0) {
      return Device.gpu();
    }
    if (choice == JobOptions.Device.GPU) {
      throw new IllegalStateException(
          "device=gpu, but PyTorch sees no GPU here (a CUDA build of pytorch-native and a driver"
              + " are needed; docs/DEPLOY.md): set device=auto or device=cpu");
    }
    if (FALLBACK_LOGGED.compareAndSet(false, true)) {
      LOG.info(
          "device={}: no GPU visible to PyTorch, scoring on the CPU",
          choice.name().toLowerCase(Locale.ROOT));
    }
    return Device.cpu();
  }
}
