package dev.forecaster.trainer;

import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.WindowPolicy;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.RecordDecodingException;
import dev.forecaster.schemas.Topics;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer as a long-lived service. Rounds run one at a time on one thread: when the schedule
 * says (counted from the end of the last round, kept in the decision log so a restart goes on where
 * it stopped), when live accuracy drifts, or when asked. Each round reads the history from the
 * readings topic up to its end offsets, trains, backtests on the most recent period against
 * persistence and the version in service, and publishes only a better model, as the last step (a
 * round that fails or is stopped publishes nothing; versions come from the models topic, so they
 * never go back). A second thread follows the evaluations topic for the drift trigger.
 */
public final class TrainerService implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TrainerService.class);

  /** Why a round started. */
  public enum Trigger {
    SCHEDULE,
    DRIFT,
    REQUEST,
    /** again after a failed round, sooner than the schedule (see {@link Settings#retryBackoff}) */
    RETRY
  }

  /**
   * @param kafka bootstrap servers and pass-through client settings
   * @param template the model each round trains (unfitted)
   * @param testFrom first backtest target day; null: the most recent 20% of windows
   * @param drift the drift trigger, or null for none
   * @param stateDir the decision log and local copies of published models
   * @param publishFirst publish the first version of the model even if it does not beat
   *     persistence: with none in service the job has nothing to forecast with
   * @param retryBackoff how long after a failed round the next one starts; it doubles with each
   *     failure in a row, up to the schedule's own interval
   */
  public record Settings(
      Map<String, Object> kafka,
      String readingsTopic,
      String modelsTopic,
      String evaluationsTopic,
      ModelSpec template,
      TrainingSettings training,
      LocalDate testFrom,
      RetrainSchedule schedule,
      DriftMonitor.Policy drift,
      Path stateDir,
      Duration historyTimeout,
      boolean publishFirst,
      WindowPolicy windows,
      Selection.Space search,
      Duration budget,
      Duration retryBackoff) {

    /**
     * Settings for a model and its training: the topics' default names, a round every 24 hours, no
     * drift trigger, 60 s to read the history, and only a better model published.
     */
    public static Builder builder(
        Map<String, Object> kafka, ModelSpec template, TrainingSettings training, Path stateDir) {
      return new Builder(kafka, template, training, stateDir);
    }

    public Builder toBuilder() {
      return new Builder(kafka, template, training, stateDir)
          .topics(readingsTopic, modelsTopic, evaluationsTopic)
          .testFrom(testFrom)
          .schedule(schedule)
          .drift(drift)
          .historyTimeout(historyTimeout)
          .publishFirst(publishFirst)
          .windows(windows)
          .search(search, budget)
          .retryBackoff(retryBackoff);
    }

    /** Builds settings by name. */
    public static final class Builder {
      private final Map<String, Object> kafka;
      private final ModelSpec template;
      private TrainingSettings training;
      private final Path stateDir;
      private String readingsTopic = Topics.READINGS.defaultName();
      private String modelsTopic = Topics.MODELS.defaultName();
      private String evaluationsTopic = Topics.EVALUATIONS.defaultName();
      private LocalDate testFrom;
      private RetrainSchedule schedule = RetrainSchedule.every(Duration.ofHours(24));
      private DriftMonitor.Policy drift;
      private Duration historyTimeout = Duration.ofSeconds(60);
      private boolean publishFirst;
      private WindowPolicy windows = WindowPolicy.DEFAULT;
      private Selection.Space search;
      private Duration budget = TrainingRun.DEFAULT_BUDGET;
      private Duration retryBackoff = Duration.ofMinutes(1);

      private Builder(
          Map<String, Object> kafka, ModelSpec template, TrainingSettings training, Path stateDir) {
        this.kafka = Map.copyOf(kafka);
        this.template = template;
        this.training = training;
        this.stateDir = stateDir;
      }

      public Builder topics(String readings, String models, String evaluations) {
        readingsTopic = readings;
        modelsTopic = models;
        evaluationsTopic = evaluations;
        return this;
      }

      public Builder training(TrainingSettings v) {
        training = v;
        return this;
      }

      public Builder testFrom(LocalDate v) {
        testFrom = v;
        return this;
      }

      public Builder schedule(RetrainSchedule v) {
        schedule = v;
        return this;
      }

      public Builder drift(DriftMonitor.Policy v) {
        drift = v;
        return this;
      }

      public Builder historyTimeout(Duration v) {
        historyTimeout = v;
        return this;
      }

      public Builder publishFirst(boolean v) {
        publishFirst = v;
        return this;
      }

      public Builder windows(WindowPolicy v) {
        windows = v;
        return this;
      }

      /** Each round chooses the form among {@code space} within {@code within}; null: none. */
      public Builder search(Selection.Space space, Duration within) {
        if (space != null || within != null) {
          Selection.requireBudget(within);
        }
        search = space;
        budget = within;
        return this;
      }

      public Builder retryBackoff(Duration v) {
        if (v.isNegative() || v.isZero()) {
          throw new IllegalArgumentException("retry backoff must be positive, not " + v);
        }
        retryBackoff = v;
        return this;
      }

      public Settings build() {
        return new Settings(
            kafka,
            readingsTopic,
            modelsTopic,
            evaluationsTopic,
            template,
            training,
            testFrom,
            schedule,
            drift,
            stateDir,
            historyTimeout,
            publishFirst,
            windows,
            search,
            budget,
            retryBackoff);
      }
    }
  }

  private final Settings settings;
  private final Clock clock;
  private final ModelRegistry registry;
  private final DecisionLog log;
  private final TrainerMetrics metrics = new TrainerMetrics();
  private final DriftMonitor monitor;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();
  private final Condition idleSignal = lock.newCondition();
  private boolean idle;
  private final List<Request> requests = new ArrayList<>();
  private volatile boolean stopping;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile boolean roundRunning;
  private volatile ModelUpdate serving;
  private volatile Instant nextDue;
  private volatile Instant lastDriftRound = Instant.EPOCH;
  private int failuresInARow; // only the round thread touches it
  private Thread rounds;
  private Thread follower;
  private KafkaConsumer<byte[], byte[]> evaluations;

  private record Request(Trigger trigger, String reason, CompletableFuture<RoundRecord> done) {}

  public TrainerService(Settings settings, Clock clock) {
    this.settings = settings;
    this.clock = clock;
    this.registry = new ModelRegistry(settings.kafka(), settings.modelsTopic());
    this.log = new DecisionLog(settings.stateDir().resolve("decisions.jsonl"));
    this.monitor =
        settings.drift() == null
            ? null
            : new DriftMonitor(
                settings.template().name(), settings.template().horizon(), settings.drift());
    metrics.liveMae.set(Double.NaN); // no evaluation yet
    metrics.servingVersion.set(Double.NaN);
    metrics.servingBacktestMae.set(Double.NaN);
  }

  public TrainerMetrics metrics() {
    return metrics;
  }

  public DecisionLog decisions() {
    return log;
  }

  /** When the next scheduled round is due. */
  public Instant nextDue() {
    return nextDue;
  }

  /**
   * Checks the broker (creating the models topic if needed), reads where the last run stopped, and
   * starts the round thread and, with a drift policy, the evaluations follower.
   */
  public TrainerService start() {
    registry.ensureTopic(); // fails fast, naming the address, when no broker answers
    refreshServing();
    // a restart goes on where the last run stopped: the schedule, a retry if its round failed, or
    // at once if a stop cancelled it
    Optional<RoundRecord> last = log.last();
    nextDue = last.map(this::nextDue).orElse(clock.instant());
    metrics.nextRoundDue.set(nextDue.toEpochMilli() / 1000.0);
    LOG.info(
        "trainer for {}: {}; {}; next round {}",
        settings.template().name(),
        settings.schedule(),
        monitor == null
            ? "no drift trigger"
            : String.format(
                Locale.ROOT,
                "drift when the live MAE over %d evaluations exceeds the backtest MAE by %.0f%%",
                settings.drift().window(),
                settings.drift().margin() * 100),
        last.isEmpty()
            ? "now (no earlier round in " + log.file() + ")"
            : nextDue.isAfter(clock.instant())
                ? nextDue.toString()
                : "now (due since " + nextDue + ", after a " + last.get().decision() + " round)");
    rounds = new Thread(this::roundLoop, "trainer-rounds");
    rounds.start();
    if (monitor != null) {
      evaluations =
          new KafkaConsumer<>(
              consumerProperties(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
      follower = new Thread(this::followEvaluations, "trainer-evaluations");
      follower.setDaemon(true);
      follower.start();
    }
    return this;
  }

  /**
   * Blocks until the round thread waits for its next due time with no round asked for: no round can
   * start before {@link #nextDue()} unless one is asked for or drift is seen. False when {@code
   * timeout} passes first.
   */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    lock.lock();
    try {
      long nanos = timeout.toNanos();
      while (!idle) {
        if (nanos <= 0) {
          return false;
        }
        nanos = idleSignal.awaitNanos(nanos);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Asks for a round now; the future completes with its record. */
  public CompletableFuture<RoundRecord> requestRound(String reason) {
    return enqueue(Trigger.REQUEST, reason);
  }

  private CompletableFuture<RoundRecord> enqueue(Trigger trigger, String reason) {
    Request r = new Request(trigger, reason, new CompletableFuture<>());
    lock.lock();
    try {
      requests.add(r);
      wake.signalAll();
    } finally {
      lock.unlock();
    }
    return r.done();
  }

  private void roundLoop() {
    while (!stopping) {
      Request next;
      lock.lock();
      try {
        while (!stopping && requests.isEmpty() && clock.instant().isBefore(nextDue)) {
          idle = true;
          idleSignal.signalAll();
          long waitMs = Math.max(1, Duration.between(clock.instant(), nextDue).toMillis());
          wake.await(Math.min(waitMs, 60_000), TimeUnit.MILLISECONDS);
        }
        idle = false;
        if (stopping) {
          break;
        }
        next =
            !requests.isEmpty()
                ? requests.remove(0)
                : failuresInARow > 0
                    ? new Request(
                        Trigger.RETRY,
                        "retry after " + failuresInARow + " failed round(s)",
                        new CompletableFuture<>())
                    : new Request(
                        Trigger.SCHEDULE,
                        "scheduled (" + settings.schedule() + ")",
                        new CompletableFuture<>());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } finally {
        lock.unlock();
      }
      RoundRecord record = round(next.trigger(), next.reason());
      next.done().complete(record);
      nextDue = nextDue(record);
      metrics.nextRoundDue.set(nextDue.toEpochMilli() / 1000.0);
    }
    lock.lock();
    try {
      requests.forEach(r -> r.done().cancel(false));
      requests.clear();
    } finally {
      lock.unlock();
    }
  }

  /**
   * When the round after {@code last} is due: by the schedule, or after a backoff that doubles with
   * each failed round in a row (never later than the schedule); at once after a round that a stop
   * cancelled (a restart runs it again rather than skip an interval).
   */
  private Instant nextDue(RoundRecord last) {
    Instant finished = Instant.parse(last.finishedAt());
    if ("cancelled".equals(last.decision())) {
      return finished;
    }
    Instant scheduled = settings.schedule().next(finished);
    if (!"failed".equals(last.decision())) {
      failuresInARow = 0;
      return scheduled;
    }
    failuresInARow++;
    Duration backoff = settings.retryBackoff().multipliedBy(1L << Math.min(failuresInARow - 1, 20));
    Instant retry = finished.plus(backoff);
    LOG.info(
        "{}: retrying at {} ({} failed round(s) in a row)",
        settings.template().name(),
        retry.isBefore(scheduled) ? retry : scheduled,
        failuresInARow);
    return retry.isBefore(scheduled) ? retry : scheduled;
  }

  /**
   * One round on the calling thread, outside the service's own timing (it need not be started): the
   * same reading, training, comparison, publication and decision record.
   */
  public RoundRecord runOnce(Trigger trigger, String reason) {
    registry.ensureTopic(); // as start does: compacted, sized for models; no broker fails here
    refreshServing();
    return round(trigger, reason);
  }

  /** One round, start to end; never throws: its outcome, failure included, is the record. */
  RoundRecord round(Trigger trigger, String reason) {
    Instant started = clock.instant();
    roundRunning = true;
    metrics.roundRunning.set(1);
    metrics.roundEpochs.set(0);
    String name = settings.template().name();
    LOG.info("{}: round started ({}: {})", name, trigger.name().toLowerCase(Locale.ROOT), reason);
    RoundRecord.Builder record =
        RoundRecord.builder()
            .startedAt(started.toString())
            .trigger(trigger.name().toLowerCase(Locale.ROOT))
            .reason(reason)
            .modelName(name)
            .servingVersion(serving == null ? null : serving.getVersion());
    try {
      KafkaHistory.Read read;
      try { // a stop does not wait for the read: it can take up to the history timeout per stall
        read =
            KafkaHistory.read(
                settings.kafka(),
                settings.readingsTopic(),
                settings.historyTimeout(),
                () -> stopping);
      } catch (CancellationException e) {
        throw new CancellationException(
            "the trainer is stopping: round abandoned, nothing published (" + e.getMessage() + ")");
      }
      record.historyReadings(read.history().readingsCarrying(settings.template().features()));
      read.requireSomeDecoded(settings.readingsTopic());
      checkNotStopping();
      TrainingRun.Request request =
          TrainingRun.Request.publish(
                  settings.template(), settings.training(), settings.testFrom(), registry)
              .keepingCopiesIn(settings.stateDir().resolve("models"))
              .publishingTheFirstVersion(settings.publishFirst())
              .withWindows(settings.windows())
              .searching(settings.search(), settings.budget());
      TrainingRun.Outcome o =
          new TrainingRun(clock)
              .run(
                  read.history(),
                  request,
                  epoch -> {
                    metrics.roundEpochs.inc();
                    checkNotStopping();
                  });
      TrainingRun.ChampionComparison c = o.champion();
      record
          .decision(o.decision().name().toLowerCase(Locale.ROOT))
          .version(o.decision() == TrainingRun.Decision.PUBLISHED ? o.version() : null)
          .testWindows(o.model().n())
          .testFrom(o.testFrom().toString())
          .testTo(o.testTo().toString())
          .challengerMae(o.model().mae())
          .persistenceMae(o.persistence().mae())
          .championMae(c == null ? null : c.championMae())
          .commonWindows(c == null ? null : c.commonWindows())
          .explanation(o.explanation());
    } catch (CancellationException e) {
      // cancelled only by a stop (a restart runs it again at once); anything else cancelled in
      // the round is a failure, retried after the backoff
      record
          .decision(stopping ? "cancelled" : "failed")
          .error(e.getMessage() != null ? e.getMessage() : e.toString());
    } catch (TrainingDataException e) {
      // the history cannot train the model (no windows, no reading with its features): the
      // message says what to check, a stack trace would not; it is logged at debug
      LOG.error("{}: round failed, nothing published: {}", name, e.getMessage());
      LOG.debug("{}: round failed", name, e);
      record.decision("failed").error(e.getMessage() != null ? e.getMessage() : e.toString());
    } catch (RuntimeException e) {
      LOG.error("{}: round failed, nothing published", name, e);
      record.decision("failed").error(String.valueOf(e));
    } finally {
      roundRunning = false;
      metrics.roundRunning.set(0);
    }
    RoundRecord done = record.finishedAt(clock.instant().toString()).build();
    log.append(done);
    metrics.rounds.labelValues(done.trigger(), done.decision()).inc();
    metrics.lastRoundFinished.set(Instant.parse(done.finishedAt()).toEpochMilli() / 1000.0);
    metrics.lastRoundDuration.set(
        Duration.between(started, Instant.parse(done.finishedAt())).toMillis() / 1000.0);
    LOG.info(
        "{}: round {} ({}): {}",
        name,
        done.decision(),
        done.trigger(),
        done.explanation() != null ? done.explanation() : done.error());
    try {
      refreshServing();
    } catch (RuntimeException e) {
      LOG.warn("cannot read the models topic after the round: {}", e.getMessage());
    }
    return done;
  }

  private void checkNotStopping() {
    if (stopping) {
      throw new CancellationException(
          "the trainer is stopping: round abandoned, nothing published");
    }
  }

  private void refreshServing() {
    serving = registry.serving(settings.template().name()).orElse(null);
    if (serving != null) {
      metrics.servingVersion.set(serving.getVersion());
      metrics.servingBacktestMae.set(serving.getBacktestMetrics().getOrDefault("mae", Double.NaN));
    }
  }

  private Properties consumerProperties() {
    Properties p = new Properties();
    p.putAll(settings.kafka());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    return p;
  }

  /**
   * Follows the evaluations topic from the last K records of each partition, so that a restart
   * judges the version in service on recent evaluations rather than waiting for K new ones.
   */
  private void followEvaluations() {
    try {
      List<TopicPartition> partitions = List.of();
      while (!stopping && partitions.isEmpty()) {
        List<PartitionInfo> infos =
            evaluations.partitionsFor(settings.evaluationsTopic(), Duration.ofSeconds(10));
        partitions =
            infos == null
                ? List.of()
                : infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        if (partitions.isEmpty()) {
          LOG.info("waiting for topic {} (drift trigger)", settings.evaluationsTopic());
          lock.lock(); // as the round thread waits: close() wakes both
          try {
            if (!stopping) {
              wake.await(5, TimeUnit.SECONDS);
            }
          } finally {
            lock.unlock();
          }
        }
      }
      evaluations.assign(partitions);
      Map<TopicPartition, Long> begin = evaluations.beginningOffsets(partitions);
      evaluations
          .endOffsets(partitions)
          .forEach(
              (tp, end) ->
                  evaluations.seek(tp, Math.max(begin.get(tp), end - settings.drift().window())));
      while (!stopping) {
        var batch = evaluations.poll(Duration.ofMillis(500));
        for (ConsumerRecord<byte[], byte[]> r : batch) {
          if (r.value() == null) {
            continue;
          }
          try {
            monitor.record(Codecs.EVALUATION.decode(r.value()));
          } catch (RecordDecodingException e) {
            LOG.warn(
                "skipping an unreadable evaluation at {}-{}@{}: {}",
                r.topic(),
                r.partition(),
                r.offset(),
                e.getMessage());
          }
        }
        checkDrift();
        // counted after the check: whoever sees the count knows the verdict on these was given
        metrics.evaluationsRead.inc(batch.count());
      }
    } catch (WakeupException e) {
      // closing
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.error("the evaluations follower stopped; the drift trigger is off until a restart", e);
    } finally {
      evaluations.close();
    }
  }

  private void checkDrift() {
    ModelUpdate current = serving;
    Optional<Long> newest = monitor.newestVersion();
    if (newest.isPresent() && (current == null || newest.get() > current.getVersion())) {
      refreshServing(); // a version published by someone else
      current = serving;
    }
    if (current == null) {
      return;
    }
    monitor.liveMae(current.getVersion()).ifPresent(metrics.liveMae::set);
    Optional<DriftMonitor.Drift> drift =
        monitor.check(
            current.getVersion(), current.getBacktestMetrics().getOrDefault("mae", Double.NaN));
    if (drift.isEmpty() || roundRunning) {
      return;
    }
    Instant now = clock.instant();
    if (now.isBefore(lastDriftRound.plus(settings.drift().cooldown()))) {
      return;
    }
    lastDriftRound = now;
    monitor.reset(current.getVersion());
    metrics.driftTriggers.inc();
    LOG.warn("{}: drift: {}; starting a round", settings.template().name(), drift.get().describe());
    enqueue(Trigger.DRIFT, drift.get().describe());
  }

  /** Blocks until the service stopped (after {@link #close}, from another thread). */
  public void awaitStopped() throws InterruptedException {
    if (rounds != null) {
      rounds.join();
    }
  }

  /**
   * Stops: a round in progress is abandoned at its next epoch (publishing nothing) unless it is
   * already publishing; waits for both threads.
   */
  @Override
  public void close() {
    stopping = true;
    lock.lock();
    try {
      wake.signalAll();
    } finally {
      lock.unlock();
    }
    if (evaluations != null) {
      evaluations.wakeup();
    }
    join(rounds);
    join(follower);
    // said once (a stop hook and a try-with-resources both close), and not while a round of
    // runOnce still runs on its caller's thread: that caller's own close says it after the round
    if (!roundRunning && closed.compareAndSet(false, true)) {
      LOG.info("trainer for {} stopped", settings.template().name());
    }
  }

  private static void join(Thread t) {
    if (t == null) {
      return;
    }
    try {
      t.join(120_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
