package dev.forecaster.cli;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.Reading;
import dev.forecaster.job.ForecastJob;
import dev.forecaster.job.JobConfig;
import dev.forecaster.job.Topics;
import dev.forecaster.kafka.LocalKafkaBroker;
import dev.forecaster.schemas.AvroCodec;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.trainer.KafkaHistory;
import dev.forecaster.trainer.ModelRegistry;
import dev.forecaster.trainer.ProgressBars;
import dev.forecaster.trainer.RetrainSchedule;
import dev.forecaster.trainer.RoundRecord;
import dev.forecaster.trainer.TrainerService;
import dev.forecaster.trainer.TrainingPreset;
import dev.forecaster.trainer.TrainingRun;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import me.tongfei.progressbar.ProgressBar;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The whole system on this machine: a broker, the history replayed into it, a model trained on
 * that history per dataset and published, the job started, and the held-out days fed in as live
 * data while forecasts and their evaluations are collected for the report.
 */
final class DemoRun {

  /**
   * One dataset of the demo: its readings, the preset it trains with, and the model it trains
   * (the preset's, or one named for the readings' domain with its own target and features).
   */
  record Dataset(String name, List<Reading> readings, TrainingPreset preset, dev.forecaster.model.ModelSpec spec) {}

  /** What the demo saw, for the summary and the report. */
  record Outcome(long readings, List<Forecast> forecasts, List<Evaluation> evaluations, List<DeadLetter> deadLetters,
      Map<String, String> trainingDecisions, Map<String, LocalDate> liveFrom, List<RoundRecord> rounds) {}

  private final PrintWriter out;
  private final int liveDays;
  private final long paceMs;
  private final boolean quick;
  private final java.nio.file.Path stateDir;

  DemoRun(PrintWriter out, int liveDays, long paceMs, boolean quick) throws java.io.IOException {
    this.stateDir = java.nio.file.Files.createTempDirectory("forecast-demo-trainer");
    this.out = out;
    this.liveDays = liveDays;
    this.paceMs = paceMs;
    this.quick = quick;
  }

  Outcome run(List<Dataset> datasets) throws Exception {
    // Ctrl-C: the hook asks the run to stop and waits until it has cancelled the job and closed
    // the broker (its folder removed), so that nothing is left running or on disk
    java.util.concurrent.CountDownLatch cleanedUp = new java.util.concurrent.CountDownLatch(1);
    Thread onCtrlC = new Thread(() -> {
      stopping = true;
      TrainerService round = retraining;
      if (round != null) {
        round.close(); // the round stops at its next epoch and publishes nothing
      }
      try {
        cleanedUp.await(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "demo-stop");
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
      return run(datasets, broker);
    } finally {
      deleteTree(stateDir);
      if (stopping) { // said here, before the waiting shutdown hook lets the JVM end
        out.println("stopped: the job, the broker and its data are gone; no report written");
        out.flush();
      }
      cleanedUp.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(onCtrlC);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it returns now that everything is closed
      }
    }
  }

  private volatile boolean stopping;
  /** The trainer whose round is running, if one is. */
  private volatile TrainerService retraining;

  private static void deleteTree(java.nio.file.Path dir) {
    try (var walk = java.nio.file.Files.walk(dir)) {
      for (java.nio.file.Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.deleteIfExists(p);
      }
    } catch (java.io.IOException e) {
      // a temporary folder left behind is not worth failing the demo for
    }
  }

  private void checkNotStopping() {
    if (stopping) {
      throw new java.util.concurrent.CancellationException("stopped (Ctrl-C)");
    }
  }

  private Outcome run(List<Dataset> datasets, LocalKafkaBroker broker) throws Exception {
    {
      out.printf("broker:   Kafka (KRaft) on %s, data in %s%n", broker.bootstrapServers(), broker.dataDir());
      JobConfig config = JobConfig.of(Map.of(
          "bootstrap.servers", broker.bootstrapServers(), "parallelism", "2", "checkpoint.interval.ms", "1000",
          "group.id", "demo-job", "transactional.id.prefix", "demo"));
      Topics.ensure(config);

      // history and live part of every series: the last `liveDays` readings of each are live
      Map<String, LocalDate> liveFrom = new LinkedHashMap<>();
      List<Reading> history = new ArrayList<>();
      List<List<Reading>> liveByDay = new ArrayList<>();
      for (Dataset d : datasets) {
        // per series in day order, a repeated day once, as the trainer reads them (a CSV may list newest first)
        Map<String, List<Reading>> bySeries = dev.forecaster.trainer.History.of(d.readings()).bySeries();
        for (var series : bySeries.entrySet()) {
          List<Reading> rs = series.getValue();
          int cut = Math.max(0, rs.size() - liveDays);
          history.addAll(rs.subList(0, cut));
          liveFrom.put(series.getKey(), rs.get(cut).getDay());
          for (int i = cut; i < rs.size(); i++) {
            while (liveByDay.size() <= i - cut) {
              liveByDay.add(new ArrayList<>());
            }
            liveByDay.get(i - cut).add(rs.get(i));
          }
        }
      }

      try (KafkaProducer<byte[], byte[]> producer = ReadingsProducer.open(broker.bootstrapServers(), 5, 16384)) {
        try (ProgressBar bar = ProgressBars.of("replaying history", history.size(), " readings")) {
          for (Reading r : history) {
            producer.send(ReadingsProducer.record(config.readingsTopic(), r));
            bar.step();
          }
          producer.flush();
        }

        Map<String, String> decisions = new LinkedHashMap<>();
        ModelRegistry registry = new ModelRegistry(
            Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), config.modelsTopic());
        KafkaHistory.Read read = KafkaHistory.read(
            Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), config.readingsTopic(),
            Duration.ofSeconds(30));
        out.printf("history:  %d readings of %d series read back from topic %s%n", read.history().readings(),
            read.history().bySeries().size(), config.readingsTopic());
        for (Dataset d : datasets) {
          decisions.put(d.spec().name(), train(d, read, registry));
        }

        Collector collector = new Collector(broker, config, () -> stopping);
        collector.start();
        JobClient job = ForecastJob.run(ForecastJob.localEnvironment(config), config, "forecaster-demo");
        try {
          out.printf("job:      %s running on a local Flink mini cluster (127.0.0.1)%n", job.getJobID());
          // caught up: every series has its forecast from its last history day (the latest window
          // of a series is scored even if it came before the model)
          Map<String, LocalDate> lastHistoryDay = new LinkedHashMap<>();
          history.forEach(r -> lastHistoryDay.merge(r.getSeriesId(), r.getDay(), (a, b) -> a.isAfter(b) ? a : b));
          collector.await(c -> lastHistoryDay.entrySet().stream().allMatch(e -> c.forecasts.stream()
              .anyMatch(f -> f.getSeriesId().equals(e.getKey()) && f.getBaseDay().equals(e.getValue()))),
              Duration.ofSeconds(120));
          long fed = history.size();
          List<RoundRecord> rounds = new ArrayList<>();
          int retrainDay = liveByDay.size() / 2;
          for (int day = 0; day < liveByDay.size(); day++) {
            checkNotStopping();
            if (day == retrainDay && day > 0) {
              rounds.addAll(retrain(datasets, broker, config, day, liveByDay.size()));
            }
            for (Reading r : liveByDay.get(day)) {
              producer.send(ReadingsProducer.record(config.readingsTopic(), r));
            }
            producer.flush();
            fed += liveByDay.get(day).size();
            Thread.sleep(paceMs);
            out.println(collector.progress(day + 1, liveByDay.size(), fed, liveFrom));
            out.flush();
          }
          long expected = liveByDay.stream().mapToLong(List::size).sum() - liveFrom.size();
          collector.await(c -> c.liveEvaluations(liveFrom) >= expected, Duration.ofSeconds(60));
          return new Outcome(fed, List.copyOf(collector.forecasts), List.copyOf(collector.evaluations),
              List.copyOf(collector.deadLetters), decisions, liveFrom, rounds);
        } finally {
          job.cancel().get(30, java.util.concurrent.TimeUnit.SECONDS);
          collector.close();
        }
      }
    }
  }

  private String train(Dataset d, KafkaHistory.Read read, ModelRegistry registry) {
    TrainingPreset p = d.preset();
    dev.forecaster.model.ModelSpec spec = d.spec();
    // the dataset's own series (a custom CSV may share feature names with the shipped weather)
    java.util.Set<String> series = d.readings().stream().map(Reading::getSeriesId)
        .collect(java.util.stream.Collectors.toSet());
    dev.forecaster.trainer.History own = dev.forecaster.trainer.History.of(read.history().bySeries().entrySet()
        .stream().filter(e -> series.contains(e.getKey())).flatMap(e -> e.getValue().stream()).toList());
    // the first version goes in service even if it does not beat persistence: a job needs a model;
    // it is trained briefly (one network, a few epochs) so that forecasting starts at once, and the
    // trainer's round in the live period trains the full model, published only if better
    try (ProgressBar bar = ProgressBars.of("training " + spec.name() + " v1", 0, " epochs")) {
      TrainingRun.Outcome o = new TrainingRun(Clock.systemUTC()).run(own,
          new TrainingRun.Request(spec.withMembers(1), p.settings(BOOTSTRAP_EPOCHS, 42), null, registry, false, null,
              true),
          epoch -> bar.step());
      String line = String.format("%s: first version, trained briefly (1 network, at most %d epochs): backtest MAE "
          + "%.3f vs persistence %.3f; %s", spec.name(), BOOTSTRAP_EPOCHS, o.model().mae(), o.persistence().mae(),
          o.explanation());
      out.println("trained:  " + line);
      return line;
    }
  }

  /** Epochs of the first, brief training of each model. */
  static final int BOOTSTRAP_EPOCHS = 5;

  /**
   * The trainer's scheduled round, half-way through the live period, for every model: the
   * trainer service's own round (history from the readings topic up to now, full training,
   * backtest against persistence and the version in service, published only if better). The
   * feed waits for it, so that the switch falls inside the live period however long it takes.
   */
  private List<RoundRecord> retrain(List<Dataset> datasets, LocalKafkaBroker broker, JobConfig config, int day,
      int days) throws Exception {
    out.printf("trainer:  scheduled round at live day %d/%d; the feed waits for it%n", day, days);
    out.flush();
    List<RoundRecord> rounds = new ArrayList<>();
    for (Dataset d : datasets) {
      checkNotStopping();
      TrainerService.Settings settings = new TrainerService.Settings(
          Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), config.readingsTopic(),
          config.modelsTopic(), config.evaluationsTopic(), d.spec(), d.preset().settings(quick ? 40 : null, 42), null,
          RetrainSchedule.every(java.time.Duration.ofHours(24)), null, stateDir, Duration.ofSeconds(30));
      try (TrainerService trainer = new TrainerService(settings, Clock.systemUTC())) {
        retraining = trainer;
        RoundRecord r = trainer.runOnce(TrainerService.Trigger.SCHEDULE,
            "scheduled retraining, live day " + day + " of " + days);
        out.printf("trainer:  %s: %s%n", d.spec().name(), r.explanation() != null ? r.explanation() : r.error());
        out.flush();
        rounds.add(r);
      } finally {
        retraining = null;
      }
    }
    return rounds;
  }

  /** Reads forecasts, evaluations and dead letters (read_committed) while the demo runs. */
  private static final class Collector extends Thread implements AutoCloseable {
    final List<Forecast> forecasts = new CopyOnWriteArrayList<>();
    final List<Evaluation> evaluations = new CopyOnWriteArrayList<>();
    final List<DeadLetter> deadLetters = new CopyOnWriteArrayList<>();
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final JobConfig config;
    private volatile boolean running = true;
    private final java.util.function.BooleanSupplier stopped;

    Collector(LocalKafkaBroker broker, JobConfig config, java.util.function.BooleanSupplier stopped) {
      super("demo-collector");
      this.stopped = stopped;
      setDaemon(true);
      this.config = config;
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
      p.put(ConsumerConfig.GROUP_ID_CONFIG, "demo-report");
      p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      consumer.subscribe(List.of(config.forecastsTopic(), config.evaluationsTopic(), config.deadLettersTopic()));
    }

    @Override
    public void run() {
      while (running) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          try {
            if (r.topic().equals(config.forecastsTopic())) {
              forecasts.add(Codecs.FORECAST.decode(r.value()));
            } else if (r.topic().equals(config.evaluationsTopic())) {
              evaluations.add(Codecs.EVALUATION.decode(r.value()));
            } else {
              deadLetters.add(Codecs.DEAD_LETTER.decode(r.value()));
            }
          } catch (Exception e) {
            // a record the report cannot read is left out of it
          }
        }
      }
      consumer.close();
    }

    long liveEvaluations(Map<String, LocalDate> liveFrom) {
      return evaluations.stream().filter(e -> !e.getTargetDay().isBefore(liveFrom.get(e.getSeriesId()))).count();
    }

    void await(java.util.function.Predicate<Collector> done, Duration timeout) throws InterruptedException {
      long end = System.nanoTime() + timeout.toNanos();
      while (!done.test(this) && System.nanoTime() < end && !stopped.getAsBoolean()) {
        Thread.sleep(100);
      }
    }

    String progress(int day, int days, long readings, Map<String, LocalDate> liveFrom) {
      StringBuilder line = new StringBuilder(String.format("live day %3d/%d  readings %6d  forecasts %6d  |", day, days,
          readings, forecasts.size()));
      for (var series : liveFrom.entrySet()) {
        double[] mae = DemoReport.liveMae(evaluations, series.getKey(), series.getValue());
        line.append(String.format("  %s MAE %s (persistence %s)", series.getKey(), fmt(mae[0]), fmt(mae[1])));
      }
      return line.toString();
    }

    private static String fmt(double v) {
      return Double.isNaN(v) ? "-" : String.format("%.2f", v);
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      join(5000);
    }
  }
}
