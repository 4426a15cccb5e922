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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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

  /** A version loaded (or loading: {@link #model} completes when it is) and its users. */
  private static final class Entry {
    final CompletableFuture<LoadedModel> model = new CompletableFuture<>();
    int users;
  }

  private SharedModels() {}

  /** The identity of a version: name, version and checksum. */
  public static String key(ModelUpdate update) {
    return update.getModelName() + "@" + update.getVersion() + "#" + update.getSha256();
  }

  /**
   * The loaded model of an update, loading (and verifying) it if no one in this JVM has yet. The
   * load runs outside the lock: a subtask releasing another version, or acquiring one loaded
   * already, does not wait for it; a second subtask asking for the same version waits for the first
   * one's load. A load that fails is forgotten, so the version can be tried again.
   */
  public static LoadedModel acquire(ModelUpdate update, JobOptions.Device choice)
      throws ModelArtifactException {
    String key = key(update);
    Entry entry;
    boolean loadsIt;
    synchronized (SharedModels.class) {
      entry = LOADED.get(key);
      loadsIt = entry == null;
      if (loadsIt) {
        entry = new Entry();
        LOADED.put(key, entry);
      }
      entry.users++;
    }
    if (loadsIt) {
      try {
        Device device = device(choice);
        entry.model.complete(ModelUpdates.load(update, device));
        LOG.info("loaded model {} v{} on {}", update.getModelName(), update.getVersion(), device);
      } catch (ModelArtifactException | RuntimeException | Error e) {
        entry.model.completeExceptionally(e);
      }
    }
    try {
      return entry.model.join();
    } catch (CompletionException e) {
      synchronized (SharedModels.class) {
        if (--entry.users == 0 && LOADED.get(key) == entry) {
          LOADED.remove(key);
        }
      }
      if (e.getCause() instanceof ModelArtifactException m) {
        throw m;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw (RuntimeException) e.getCause();
    }
  }

  /** Lets go of a version acquired: the last user closes it. */
  public static void release(ModelUpdate update) {
    Entry entry;
    synchronized (SharedModels.class) {
      entry = LOADED.get(key(update));
      if (entry == null || --entry.users > 0) {
        return;
      }
      LOADED.remove(key(update));
    }
    entry.model.join().close(); // loaded: a user had it
    LOG.info("closed model {} v{}", update.getModelName(), update.getVersion());
  }

  /** Versions loaded by this job's classes in this JVM (the {@code modelVersionsLoaded} metric). */
  static synchronized int loadedVersions() {
    return (int)
        LOADED.values().stream()
            .filter(e -> e.model.isDone() && !e.model.isCompletedExceptionally())
            .count();
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
