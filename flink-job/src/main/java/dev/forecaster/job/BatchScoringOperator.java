package dev.forecaster.job;

import ai.djl.translate.TranslateException;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.Interval;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.BatchedPredictor;
import dev.forecaster.model.Conformal;
import dev.forecaster.model.IntervalBand;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.LstmKernelException;
import dev.forecaster.model.ModelArtifactException;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.WindowEncoder;
import dev.forecaster.schemas.ForecastIds;
import dev.forecaster.schemas.TrustedPackages;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores windows in batches and emits, in order on one stream, each forecast and then the newest
 * reading of its window (the actual that settles earlier forecasts; a window that is not scored
 * emits its actual at once, or after those of the windows already buffered). Complete windows are
 * encoded into a buffer and scored in one forward pass when the buffer holds {@code batch.size}
 * windows or {@code batch.timeout.ms} after its first one. The buffer is flushed before every
 * checkpoint barrier and at the end of input, so nothing buffered is ever outside a checkpoint.
 *
 * <p>Models arrive on the second input (broadcast: every subtask sees every update). A strictly
 * newer version of a model is loaded on a thread of its own while the one in service goes on
 * scoring (loading the preset's 70 networks took the scoring thread, and the other subtask's
 * waiting for the same shared copy, about 100 ms: a stall of every series at each swap); once
 * loaded it replaces the one in service, in the task's mailbox, after the buffered windows are
 * scored with the old one. Versions load one after another, each put in service if newer than the
 * one serving then (so a version that loads stays in service when a newer one asked for meanwhile
 * does not). A version that does not load keeps the old one serving and is counted. A checkpoint
 * keeps the versions in service and the newest asked for (a restore tries the newest of each model
 * first, then older ones). While no version of a model serves yet and its first one loads, a window
 * of that model waits for the load on the task's thread (backpressure: a job started on a full
 * topic would otherwise park more windows than may wait). A window that arrives before its model
 * exists waits, and every waiting window of a model is scored, in arrival order, when the model
 * comes; at most {@code scoring.max-waiting-windows} wait per subtask (beyond, the oldest of that
 * model are dropped, their actuals emitted, and counted), and they are part of every checkpoint. A
 * waiting window's actual is emitted after its forecast, as every window's is.
 */
public final class BatchScoringOperator extends AbstractStreamOperator<ScoredEvent>
    implements TwoInputStreamOperator<WindowReady, ModelUpdate, ScoredEvent> {

  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(BatchScoringOperator.class);

  private final int batchSize;
  private final long timeoutMs;
  private final JobOptions.Device device;
  private final int windowLength;
  private final boolean forwardPass;
  private final int maxWaiting;

  private transient Map<String, Serving> serving;
  private transient Map<String, ArrayDeque<WindowReady>> waiting;
  private transient int waitingCount;
  private transient Counter droppedWaiting;
  private transient ListState<ModelUpdate> servedModels;
  private transient ListState<WindowReady> waitingWindows;
  private transient Counter scored;
  private transient Counter outsideLevels;
  private transient Counter batches;
  private transient Counter incomplete;
  private transient Counter unscorable;
  private transient Counter rejectedModels;
  private transient long timerDue;

  /**
   * The newest version asked for of each model while it loads (the task thread's; the load runs on
   * the loader thread).
   */
  private transient Map<String, ModelUpdate> loading;

  private transient ExecutorService loader;

  /** Set when the operator closes: loads still queued then are skipped. */
  private transient volatile boolean closing;

  private transient MailboxExecutor mailbox;

  /**
   * Versions loaded and handed to the mailbox, not installed yet: closed if the operator closes.
   */
  private transient Set<Loaded> handedOver;

  public BatchScoringOperator(JobConfig config) {
    this.batchSize = config.batchSize();
    this.timeoutMs = config.batchTimeoutMs();
    this.device = config.device();
    this.windowLength = config.windowLength();
    this.forwardPass = config.scoringEnabled();
    this.maxWaiting = config.maxWaitingWindows();
  }

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    TrustedPackages.ensureContractsTrusted();
    serving = new HashMap<>();
    loading = new HashMap<>();
    waiting = new LinkedHashMap<>();
    servedModels =
        context
            .getOperatorStateStore()
            .getUnionListState(
                new ListStateDescriptor<>("served-models", new AvroTypeInfo<>(ModelUpdate.class)));
    // every subtask gets every waiting window back and keeps those of the series it owns now: after
    // a rescale a series' windows come to this operator from another subtask, and the evaluator,
    // chained and reading this output as keyed, must only see series of its own key groups
    waitingWindows =
        context
            .getOperatorStateStore()
            .getUnionListState(
                new ListStateDescriptor<>(
                    "windows-waiting-for-a-model", TypeInformation.of(WindowReady.class)));
    var task = getRuntimeContext().getTaskInfo();
    for (WindowReady w : waitingWindows.get()) {
      if (KeyGroupRangeAssignment.assignKeyToParallelOperator(
              w.seriesId, task.getMaxNumberOfParallelSubtasks(), task.getNumberOfParallelSubtasks())
          == task.getIndexOfThisSubtask()) {
        park(w);
      }
    }
    // the first subtask (with unaligned checkpoints, every subtask) stored the models it served,
    // those it was loading and the one it replaced last (see snapshotState); every subtask takes
    // the newest of each name that loads
    boolean unaligned =
        CheckpointingOptions.isUnalignedCheckpointEnabled(
            getContainingTask().getEnvironment().getJobConfiguration());
    boolean first = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0;
    writesModels = first || unaligned;
    keepsFallback = first && !unaligned; // unaligned, every subtask's own serving version is there
    replaced = new HashMap<>();
    pendingRestore = new ArrayList<>();
    servedModels.get().forEach(pendingRestore::add);
    pendingRestore.sort(
        Comparator.comparing(ModelUpdate::getModelName)
            .thenComparing(ModelUpdate::getVersion, Comparator.reverseOrder()));
  }

  /** Versions to restore, by name and newest first. */
  private transient List<ModelUpdate> pendingRestore;

  /** Whether this subtask's checkpoints keep the models (see {@link #snapshotState}). */
  private transient boolean writesModels;

  /** Whether they also keep {@link #replaced}. */
  private transient boolean keepsFallback;

  /**
   * By name, the version the one serving replaced: kept in the checkpoint as the fallback should
   * the newer ones not load on restore (another subtask may still have served it).
   */
  private transient Map<String, ModelUpdate> replaced;

  @Override
  public void open() throws Exception {
    super.open();
    var metrics = getMetricGroup();
    scored = metrics.counter("windowsScored");
    outsideLevels = metrics.counter("windowsOutsideFittedLevels");
    batches = metrics.counter("batches");
    incomplete = metrics.counter("windowsShorterThanTheModel");
    unscorable = metrics.counter("windowsMissingModelFeatures");
    rejectedModels = metrics.counter("modelUpdatesRejected");
    droppedWaiting = metrics.counter("waitingWindowsDropped");
    metrics.gauge("windowsWaitingForAModel", (Gauge<Integer>) () -> waitingCount);
    metrics.gauge("modelVersionsLoaded", (Gauge<Integer>) SharedModels::loadedVersions);
    SharedModels.device(device); // device=gpu without a GPU fails here, before any model comes
    // the operator's own priority: yielding for a load then runs only this chain's mail
    mailbox =
        getContainingTask()
            .getMailboxExecutorFactory()
            .createExecutor(getOperatorConfig().getChainIndex());
    handedOver = ConcurrentHashMap.newKeySet();
    String name = getRuntimeContext().getTaskInfo().getTaskNameWithSubtasks();
    loader =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "model loader of " + name);
              t.setDaemon(true);
              return t;
            });
    ModelUpdate tried = null;
    for (ModelUpdate u : pendingRestore) { // before any window: loaded here, newest first
      boolean again =
          tried != null
              && tried.getModelName().equals(u.getModelName())
              && tried.getVersion() == u.getVersion(); // stored by several subtasks
      Serving current = serving.get(u.getModelName());
      if (current == null && !again) {
        install(u, load(u));
        tried = u;
      } else if (keepsFallback && current != null && u.getVersion() < current.update.getVersion()) {
        replaced.putIfAbsent(u.getModelName(), u); // the next older stays the fallback
      }
    }
    pendingRestore = null;
  }

  /** Keeps a window until its model comes. */
  private void park(WindowReady window) {
    waiting.computeIfAbsent(window.modelName, m -> new ArrayDeque<>()).addLast(window);
    waitingCount++;
  }

  @Override
  public void processElement2(StreamRecord<ModelUpdate> element) throws Exception {
    accept(element.getValue());
  }

  /**
   * Loads a strictly newer version than any in service or asked for on the loader thread, and
   * installs it from the task's mailbox once loaded.
   */
  private void accept(ModelUpdate update) {
    String name = update.getModelName();
    Serving current = serving.get(name);
    ModelUpdate asked = loading.get(name);
    long newest =
        Math.max(
            current == null ? Long.MIN_VALUE : current.update.getVersion(),
            asked == null ? Long.MIN_VALUE : asked.getVersion());
    if (update.getVersion() <= newest) {
      LOG.info("ignoring {} v{}: v{} is newer or the same", name, update.getVersion(), newest);
      return;
    }
    loading.put(name, update);
    loader.execute(
        () -> {
          if (closing) {
            return; // the operator closes: nothing will install it
          }
          try {
            Loaded loaded = load(update);
            handedOver.add(loaded);
            try {
              mailbox.execute(
                  () -> {
                    if (handedOver.remove(loaded)) { // else the operator closed it
                      install(update, loaded);
                    }
                  },
                  "serve %s v%d",
                  name,
                  update.getVersion());
            } catch (RejectedExecutionException e) { // the task is closing
              if (handedOver.remove(loaded)) {
                loaded.close();
              }
            }
          } catch (Throwable e) { // an Error (memory, a native library): the task fails, as before
            try {
              mailbox.execute(
                  () -> {
                    throw new IllegalStateException(
                        "loading " + name + " v" + update.getVersion() + " failed", e);
                  },
                  "fail on loading %s v%d",
                  name,
                  update.getVersion());
            } catch (RejectedExecutionException closed) {
              LOG.warn("loading {} v{} failed while the task closed", name, update.getVersion(), e);
            }
          }
        });
  }

  /** A version loaded, or why it could not be, and how long it took. */
  private record Loaded(Serving serving, Exception failure, long millis) {
    void close() {
      if (serving != null) {
        serving.close();
      }
    }
  }

  /**
   * Loads a version for serving (any thread): the model, shared in the JVM, and a predictor. Every
   * model acquired is either in the result or released.
   */
  private Loaded load(ModelUpdate update) {
    long start = System.nanoTime();
    Serving next = null;
    try {
      LoadedModel model = SharedModels.acquire(update, device);
      try {
        next = new Serving(update, model, batchSize);
      } catch (RuntimeException | Error e) {
        SharedModels.release(update);
        throw e;
      }
      if (next.spec.readingsPerWindow() > windowLength) {
        throw new ModelArtifactException(
            "it reads "
                + next.spec.readingsPerWindow()
                + " readings per window, the job keeps "
                + windowLength
                + " (window.length)");
      }
      next.predictor.warmUp(batchSize); // here, not as the task thread's first batch after a swap
      return new Loaded(next, null, (System.nanoTime() - start) / 1_000_000);
    } catch (Error e) {
      if (next != null) {
        next.close();
      }
      throw e;
    } catch (TranslateException e) {
      next.close();
      return new Loaded(
          null,
          new ModelArtifactException("its first forward pass failed: " + e.getMessage(), e),
          (System.nanoTime() - start) / 1_000_000);
    } catch (ModelArtifactException | RuntimeException e) {
      if (next != null) {
        next.close();
      }
      return new Loaded(null, e, (System.nanoTime() - start) / 1_000_000);
    }
  }

  /**
   * On the task's thread: puts a loaded version in service if it is newer than the one serving (a
   * version asked for since still loads and follows it: should that one fail, this one serves); a
   * version that did not load is counted and the one in service stays.
   */
  private void install(ModelUpdate update, Loaded loaded) throws Exception {
    String name = update.getModelName();
    if (loading.get(name) == update) {
      loading.remove(name);
    }
    if (serving == null) {
      loaded.close(); // the operator closed
      return;
    }
    Serving current = serving.get(name);
    if (loaded.failure() instanceof LstmKernelException e) {
      rejectedModels.inc();
      LOG.error(
          "rejected {} v{} on this task manager, whose PyTorch computes LSTMs wrongly: {}",
          name,
          update.getVersion(),
          e.getMessage());
      return;
    }
    if (loaded.failure() != null) {
      rejectedModels.inc();
      LOG.warn(
          "rejected {} v{}, {}: {}",
          name,
          update.getVersion(),
          current == null ? "no version serves yet" : "v" + current.update.getVersion() + " serves",
          Objects.requireNonNullElse(loaded.failure().getMessage(), loaded.failure().toString()));
      return;
    }
    if (current != null && current.update.getVersion() >= update.getVersion()) {
      loaded.close(); // a newer version came first
      return;
    }
    try {
      if (current != null) {
        flush(current); // windows already buffered are scored by the version they were buffered for
      }
    } catch (Exception e) {
      loaded.close();
      throw e;
    }
    serving.put(name, loaded.serving());
    if (current != null && keepsFallback) {
      replaced.put(name, current.update);
    }
    if (current != null) { // closed on the loader thread: the last user frees the native model
      try {
        loader.execute(current::close);
      } catch (RejectedExecutionException e) {
        current.close();
      }
    }
    LOG.info("serving {} v{} (loaded in {} ms)", name, update.getVersion(), loaded.millis());
    ArrayDeque<WindowReady> parked = waiting.remove(name);
    if (parked != null) {
      waitingCount -= parked.size();
      for (WindowReady w : parked) {
        add(loaded.serving(), w); // each window's actual follows its forecast, as for any window
      }
    }
  }

  /** Windows dropped while waiting for a model (the {@code waitingWindowsDropped} counter). */
  long waitingWindowsDropped() {
    return droppedWaiting.getCount();
  }

  /** Model updates rejected so far (the {@code modelUpdatesRejected} counter), for tests. */
  long modelUpdatesRejected() {
    return rejectedModels.getCount();
  }

  /** Waits until a version of {@code name} serves or its newest asked for did not load. */
  private void awaitFirstVersion(String name) throws InterruptedException {
    while (!serving.containsKey(name) && loading.containsKey(name)) {
      mailbox.yield();
    }
  }

  /** Installs every version loading now, waiting for them (end of input, tests). */
  void awaitModelLoads() throws InterruptedException {
    while (!loading.isEmpty()) {
      mailbox.yield();
    }
  }

  @Override
  public void processElement1(StreamRecord<WindowReady> element) throws Exception {
    WindowReady window = element.getValue();
    Serving model = serving.get(window.modelName);
    if (model == null && loading.containsKey(window.modelName)) {
      // no version serves yet and the first loads: wait for it here, as a load on this thread did,
      // so that a backlog (a job started on a full topic) pushes back instead of filling the
      // waiting windows beyond their limit while the model loads
      awaitFirstVersion(window.modelName);
      model = serving.get(window.modelName);
    }
    if (model == null) {
      // its actual waits with it: the evaluator then meets it after its forecast, however long
      // the model took, instead of having long moved on when a late forecast comes
      park(window);
      if (waitingCount > maxWaiting) {
        emitActual(waiting.get(window.modelName).removeFirst());
        waitingCount--;
        if (droppedWaiting.getCount() == 0) {
          LOG.warn(
              "more than {} windows wait for model {} (scoring.max-waiting-windows): the oldest are"
                  + " dropped",
              maxWaiting,
              window.modelName);
        }
        droppedWaiting.inc();
      }
      return;
    }
    add(model, window);
  }

  private void emitActual(WindowReady window) {
    int last = window.rows() - 1;
    int width = window.featureNames.length;
    Map<String, Double> features = new HashMap<>();
    for (int f = 0; f < width; f++) {
      features.put(window.featureNames[f], window.values[last * width + f]);
    }
    Reading actual =
        Reading.newBuilder()
            .setSeriesId(window.seriesId)
            .setDay(LocalDate.ofEpochDay(window.epochDays[last]))
            .setFeatures(features)
            .setDomain("")
            .build();
    output.collect(
        new StreamRecord<>(ScoredEvent.of(actual), window.epochDays[last] * 86_400_000L));
  }

  private void add(Serving model, WindowReady window) throws Exception {
    int rows = model.spec.readingsPerWindow();
    if (window.rows() < rows) {
      incomplete.inc();
      emitActualInOrder(model, window);
      return;
    }
    int[] columns = model.columns(window.featureNames);
    if (columns == null) {
      unscorable.inc();
      emitActualInOrder(model, window);
      return;
    }
    // the window's reading settles earlier forecasts of its series as it arrives: the batch it
    // joins is served with those residuals
    boolean learned = model.learnFrom(window, columns);
    model.append(window, columns, rows, learned);
    if (model.count == batchSize) {
      flush(model);
    } else if (model.count == 1) {
      long due = getProcessingTimeService().getCurrentProcessingTime() + timeoutMs;
      if (timerDue == 0 || due < timerDue) {
        timerDue = due;
        getProcessingTimeService()
            .registerTimer(
                due,
                time -> {
                  timerDue = 0;
                  flushAll();
                });
      }
    }
  }

  /**
   * The actual of a window that is not scored: at once when nothing is buffered, else after the
   * buffered windows' forecasts and actuals. An earlier window of its series may be in the buffer
   * (a series' first window after a gap is short): were its actual to overtake them, the evaluator
   * would meet a newer reading before their forecasts and drop those as out of reach.
   */
  private void emitActualInOrder(Serving model, WindowReady window) throws TranslateException {
    if (model.count == 0) {
      emitActual(window);
      return;
    }
    model.trailingAt[model.trailing.size()] = model.count;
    model.trailing.add(window);
    if (model.trailing.size() == model.windows.length) {
      flush(model); // bounded, as the batch is
    }
  }

  /** A model's calibrated intervals around one forecast, in real units. */
  static List<Interval> intervals(List<IntervalBand> bands, double value) {
    if (bands.isEmpty()) {
      return List.of();
    }
    List<Interval> intervals = new ArrayList<>(bands.size()); // per forecast: no stream
    for (IntervalBand b : bands) {
      intervals.add(new Interval(b.level(), value + b.lower(), value + b.upper()));
    }
    return intervals;
  }

  private void flush(Serving model) throws TranslateException {
    if (model.count == 0) {
      return;
    }
    if (forwardPass) {
      // windows lying whole outside a level model's fitted levels get persistence: counted
      outsideLevels.inc(model.predictor.predict(model.encoded, model.base, model.count, model.out));
    } else {
      // scoring switched off (benchmarks): everything but the forward pass; persistence stands in
      for (int i = 0; i < model.count; i++) {
        Arrays.fill(model.out, i * model.outputs, (i + 1) * model.outputs, model.base[i]);
      }
    }
    long now = System.currentTimeMillis();
    ModelSpec spec = model.spec;
    int outputs = model.outputs;
    for (int j = 0; j < outputs; j++) {
      model.bands[j] = model.bands(j);
    }
    // a window whose previous window of the series was still in this batch when it arrived
    // settles that one's forecasts now, in window order: its residuals serve from the next batch
    for (int i = 0; i < model.count; i++) {
      if (!model.learned[i]) {
        model.learnFrom(model.windows[i], model.columns(model.windows[i].featureNames));
      }
      model.remember(i);
    }
    for (int i = 0; i < model.count; i++) {
      LocalDate baseDay = LocalDate.ofEpochDay(model.baseDays[i]);
      for (int j = 0; j < outputs; j++) {
        double value = model.out[i * outputs + j];
        int horizon = spec.horizonOf(j);
        Forecast forecast =
            Forecast.newBuilder()
                .setForecastId(
                    ForecastIds.of(model.series[i], baseDay, horizon, spec.name(), spec.version()))
                .setSeriesId(model.series[i])
                .setBaseDay(baseDay)
                .setTargetDay(spec.targetDay(baseDay, j))
                .setHorizon(horizon)
                .setTarget(spec.target())
                .setValue(value)
                .setIntervals(intervals(model.bands[j], value))
                .setModelName(spec.name())
                .setModelVersion(spec.version())
                .setCreatedAt(Instant.ofEpochMilli(now))
                .build();
        output.collect(
            new StreamRecord<>(ScoredEvent.of(forecast), model.baseDays[i] * 86_400_000L));
      }
    }
    // every actual in the order its window came: a series' short windows after a gap are older
    // than its next complete window in the same batch
    int t = 0;
    for (int i = 0; i < model.count; i++) {
      for (; t < model.trailing.size() && model.trailingAt[t] <= i; t++) {
        emitActual(model.trailing.get(t));
      }
      emitActual(model.windows[i]);
      model.windows[i] = null;
    }
    for (; t < model.trailing.size(); t++) {
      emitActual(model.trailing.get(t));
    }
    model.trailing.clear();
    scored.inc(model.count);
    batches.inc();
    model.count = 0;
  }

  private void flushAll() throws TranslateException {
    for (Serving model : serving.values()) {
      flush(model);
    }
  }

  @Override
  public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
    flushAll(); // forecasts of buffered windows go out before the barrier: no buffer state needed
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    // written by the first subtask only: a union list state gives every entry to every subtask on
    // restore, and each artifact (up to 16 MB) written by every subtask would cost parallelism ×
    // the models in every checkpoint and parallelism² in every restore. The first subtask's list
    // is the others' too: the models come broadcast from one source, so at an aligned barrier
    // every subtask has been asked for the same versions; which one serves may differ for a moment
    // (a subtask still loading the version the first one serves), so the version the first one
    // replaced is kept too, as the fallback. An unaligned barrier can overtake a model update that
    // another subtask has already taken in (the update is then restored only to the subtasks that
    // had not): there every subtask writes its own, as before
    servedModels.update(modelsToCheckpoint());
    List<WindowReady> parked = new ArrayList<>();
    waiting.values().forEach(parked::addAll);
    waitingWindows.update(parked);
  }

  /** The model versions this subtask's next checkpoint keeps (see {@link #snapshotState}). */
  List<ModelUpdate> modelsToCheckpoint() {
    List<ModelUpdate> models = new ArrayList<>();
    if (writesModels) {
      models.addAll(loading.values()); // restored first, if it loads
      serving.values().forEach(s -> models.add(s.update));
      models.addAll(replaced.values()); // if neither loads
    }
    return models;
  }

  @Override
  public void finish() throws Exception {
    awaitModelLoads(); // the windows parked for a model loading now are scored by it
    flushAll();
    super.finish();
  }

  @Override
  public void close() throws Exception {
    closing = true;
    if (loader != null) {
      loader.shutdown(); // queued closes of old versions still run; queued loads are skipped
      if (!loader.awaitTermination(1, TimeUnit.MINUTES)) { // a load in flight ends; moot
        LOG.warn("a model load did not end within a minute of closing; its model may stay loaded");
      }
      for (Loaded l : handedOver) {
        if (handedOver.remove(l)) {
          l.close();
        }
      }
    }
    if (serving != null) {
      serving.values().forEach(Serving::close);
      serving = null;
    }
    super.close();
  }

  /**
   * Models on the broadcast input carry no event time: the output's watermark is the windows'.
   * Buffered forecasts go out first, so that a watermark never overtakes them.
   */
  @Override
  public void processWatermark1(Watermark mark) throws Exception {
    flushAll();
    super.processWatermark(mark);
  }

  @Override
  public void processWatermark2(Watermark mark) {
    // ignored: see processWatermark1
  }

  /** What serving one model version takes in this subtask: its predictor and its batch buffers. */
  private static final class Serving {
    final ModelUpdate update;
    final ModelSpec spec;
    final WindowEncoder encoder;
    final BatchedPredictor predictor;
    final int fpw;
    final float[] encoded;
    final double[] base;
    final double[] out;
    final String[] series;
    final int[] baseDays;
    final WindowReady[] windows;
    final double[][] scratch;
    final int[] scratchDays;

    /** The day before each buffered window's base day in it (NaN for a window of one reading). */
    final double[] previousDays;

    /** Whether each buffered window settled earlier forecasts when it arrived. */
    final boolean[] learned;

    /** Windows not scored that came after the buffered ones: their actuals follow the batch's. */
    final List<WindowReady> trailing = new ArrayList<>();

    /** How many windows were buffered when each trailing one came. */
    final int[] trailingAt;

    /** Forecasts per window: one per horizon. */
    final int outputs;

    /** Each horizon's bands as of the flush under way. */
    final List<IntervalBand>[] bands;

    int count;
    private String[] lastNames;
    private int[] lastColumns;

    /**
     * The served intervals of each horizon, rolling on with this subtask's residuals (see {@link
     * Conformal}).
     */
    final Conformal.Rolling[] calibration;

    /**
     * This subtask's newest forecasts per series, newest first, as long as each window followed the
     * one before it: {@code [n, base day, value of each horizon, base day, ...]}, n entries of 1 +
     * outputs doubles, at most as many as the furthest horizon (the oldest has that horizon's
     * actual in the next window). One array per series, reused.
     */
    final Map<String, double[]> awaitingActual = new HashMap<>();

    /** Whether each horizon's intervals roll on (it has calibration residuals to start from). */
    final boolean[] rollsAt;

    final boolean rolls;

    final int targetFeature;

    Serving(ModelUpdate update, LoadedModel model, int batchSize) {
      this.update = update;
      this.spec = model.spec();
      this.outputs = spec.horizons();
      this.calibration = new Conformal.Rolling[outputs];
      this.rollsAt = new boolean[outputs];
      boolean anyResiduals = false;
      for (int j = 0; j < outputs; j++) {
        calibration[j] = new Conformal.Rolling(spec.calibrationResiduals(j));
        rollsAt[j] = !spec.calibrationResiduals(j).isEmpty();
        anyResiduals |= rollsAt[j];
      }
      this.rolls = anyResiduals;
      @SuppressWarnings("unchecked")
      List<IntervalBand>[] perHorizon = new List[outputs];
      this.bands = perHorizon;
      this.previousDays = new double[batchSize];
      this.learned = new boolean[batchSize];
      this.targetFeature = spec.targetIndex();
      this.encoder = model.encoder();
      this.predictor = model.newPredictor();
      this.fpw = encoder.floatsPerWindow();
      this.encoded = new float[batchSize * fpw];
      this.base = new double[batchSize];
      this.out = new double[batchSize * outputs];
      this.series = new String[batchSize];
      this.baseDays = new int[batchSize];
      this.windows = new WindowReady[batchSize];
      this.trailingAt = new int[batchSize];
      this.scratch = new double[spec.readingsPerWindow()][spec.features().size()];
      this.scratchDays = new int[spec.readingsPerWindow()];
    }

    /**
     * The intervals to serve for the {@code output}-th horizon: the rolling calibration's, or the
     * model's fixed ones while it has too few residuals (a model trained before rolling calibration
     * existed has only those).
     */
    List<IntervalBand> bands(int output) {
      List<IntervalBand> rolling = calibration[output].bands();
      return rolling.isEmpty() ? spec.intervals(output) : rolling;
    }

    /**
     * A window whose previous reading was the base day of this subtask's newest forecast of its
     * series brings an actual to each remembered forecast: the newest one's first horizon, the one
     * before its second, and so on. Their residuals join the calibrations. (A model of horizon k >
     * 1 alone has nothing due in the next window: the k-th forecast back is.) Returns whether the
     * window followed this subtask's newest forecast of its series.
     */
    boolean learnFrom(WindowReady w, int[] columns) {
      double[] ring = awaitingActual.get(w.seriesId);
      int rows = w.rows();
      if (ring == null || ring[0] == 0 || rows < 2 || w.epochDays[rows - 2] != ring[1]) {
        return false;
      }
      double actual = w.values[(rows - 1) * w.featureNames.length + columns[targetFeature]];
      int first = spec.horizon();
      int entries = (int) ring[0];
      for (int k = 1; k <= entries; k++) {
        int output = k - first; // the k-th newest forecast's actual is k readings after its base
        if (output >= 0 && output < outputs && rollsAt[output]) {
          calibration[output].add(actual - ring[1 + (k - 1) * (1 + outputs) + 1 + output]);
        }
      }
      return true;
    }

    /**
     * Keeps the forecasts of window {@code i} of the batch until their actuals come, after the
     * series' earlier ones if its window followed the newest of them (else instead of them).
     */
    void remember(int i) {
      if (!rolls) {
        return;
      }
      int entry = 1 + outputs;
      int capacity = spec.horizon() + outputs - 1; // the oldest forecast with a horizon still due
      double[] ring =
          awaitingActual.computeIfAbsent(series[i], s -> new double[1 + capacity * entry]);
      int entries = (int) ring[0];
      if (entries > 0 && previousDays[i] != ring[1]) {
        entries = 0; // a window between them was not forecast here: their actuals cannot be placed
      }
      int keep = Math.min(entries, capacity - 1);
      System.arraycopy(ring, 1, ring, 1 + entry, keep * entry);
      ring[1] = baseDays[i];
      System.arraycopy(out, i * outputs, ring, 2, outputs);
      ring[0] = keep + 1;
    }

    /** Where each model feature is among the window's features; null if one is missing. */
    int[] columns(String[] names) {
      if (Arrays.equals(names, lastNames)) {
        return lastColumns;
      }
      int[] columns = new int[spec.features().size()];
      for (int f = 0; f < columns.length; f++) {
        columns[f] = Arrays.asList(names).indexOf(spec.features().get(f));
        if (columns[f] < 0) {
          return null;
        }
      }
      lastNames = names;
      lastColumns = columns;
      return columns;
    }

    void append(WindowReady w, int[] columns, int rows, boolean learnedFrom) {
      int width = w.featureNames.length;
      int first = w.rows() - rows;
      for (int r = 0; r < rows; r++) {
        scratchDays[r] = w.epochDays[first + r];
        for (int f = 0; f < columns.length; f++) {
          scratch[r][f] = w.values[(first + r) * width + columns[f]];
        }
      }
      encoder.encode(scratch, scratchDays, encoded, count * fpw);
      base[count] = encoder.baseValue(scratch);
      series[count] = w.seriesId;
      baseDays[count] = scratchDays[rows - 1];
      previousDays[count] = w.rows() >= 2 ? w.epochDays[w.rows() - 2] : Double.NaN;
      learned[count] = learnedFrom;
      windows[count] = w;
      count++;
    }

    void close() {
      predictor.close();
      SharedModels.release(update);
    }
  }
}
