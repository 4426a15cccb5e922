package dev.forecaster.cli;

import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Reading;
import dev.forecaster.job.ForecastJob;
import dev.forecaster.job.JobConfig;
import dev.forecaster.kafka.LocalKafkaBroker;
import dev.forecaster.model.Conformal;
import dev.forecaster.model.History;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.trainer.DecisionLog;
import dev.forecaster.trainer.KafkaHistory;
import dev.forecaster.trainer.ModelRegistry;
import dev.forecaster.trainer.RoundRecord;
import dev.forecaster.trainer.Selection;
import dev.forecaster.trainer.TrainerService;
import dev.forecaster.trainer.TrainingRun;
import dev.forecaster.trainer.TrainingSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import me.tongfei.progressbar.ProgressBar;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * The whole system on this machine: a broker, the history replayed into it, a model trained on that
 * history per dataset and published, the job started, and the held-out days fed in as live data
 * while forecasts and their evaluations are collected for the report.
 */
final class DemoRun {

  /**
   * One dataset of the demo: its readings, the model it trains (the preset's, or one named for the
   * readings' domain with its own target and features) and how the full model trains, all as {@code
   * forecast trainer} makes them of {@code trainerFlags}, the flags the round's trainer gets.
   */
  record Dataset(
      String name,
      List<Reading> readings,
      List<String> trainerFlags,
      ModelSpec spec,
      TrainingSettings training,
      Selection.Space search) {

    static Dataset of(String name, List<Reading> readings, List<String> trainerFlags) {
      TrainerService.Settings s = TrainerCommand.parse(trainerFlags);
      return new Dataset(
          name, readings, List.copyOf(trainerFlags), s.template(), s.training(), s.search());
    }
  }

  /** The readings split into history (replayed first) and live days (fed while the job runs). */
  private record Timeline(
      List<Reading> history, List<List<Reading>> liveByDay, Map<String, LocalDate> liveFrom) {}

  /** Epochs of a first version trained on a history too short for a search. */
  static final int BRIEF_EPOCHS = 5;

  private final PrintWriter out;
  private final int liveDays;
  private final long paceMs;
  private volatile boolean stopping;

  /** The trainer processes of the round that is running. */
  private final Set<Process> trainers = ConcurrentHashMap.newKeySet();

  DemoRun(PrintWriter out, int liveDays, long paceMs) {
    this.out = out;
    this.liveDays = liveDays;
    this.paceMs = paceMs;
  }

  /**
   * Runs the demo and returns what it saw. Ctrl-C stops it: the job is cancelled, the broker and
   * its folder removed, and a {@link CancellationException} thrown.
   */
  ReportData run(List<Dataset> datasets) throws Exception {
    // Ctrl-C: the hook asks the run to stop and waits until it has cancelled the job and closed
    // the broker (its folder removed), so that nothing is left running or on disk
    CountDownLatch cleanedUp = new CountDownLatch(1);
    Thread onCtrlC = new Thread(() -> stop(cleanedUp), "demo-stop");
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    Path stateDir = Files.createTempDirectory("forecast-demo-trainer");
    try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
      return run(datasets, broker, stateDir);
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

  private void stop(CountDownLatch cleanedUp) {
    synchronized (trainers) { // no trainer starts after this
      stopping = true;
      // SIGTERM: each round stops at its next epoch and publishes nothing
      trainers.forEach(Process::destroy);
    }
    try {
      cleanedUp.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private ReportData run(List<Dataset> datasets, LocalKafkaBroker broker, Path stateDir)
      throws Exception {
    out.printf(
        "broker:   Kafka (KRaft) on %s, data in %s%n", broker.bootstrapServers(), broker.dataDir());
    JobConfig config =
        JobConfig.of(
            Map.of(
                "bootstrap.servers", broker.bootstrapServers(),
                "parallelism", "2",
                "checkpoint.interval.ms", "1000",
                "group.id", "demo-job",
                "transactional.id.prefix", "demo"));
    ForecastJob.ensureTopics(config);
    Timeline timeline = timeline(datasets);
    try (KafkaProducer<byte[], byte[]> producer =
        ReadingsProducer.open(broker.bootstrapServers(), 5, 16384)) {
      replay(producer, config, timeline.history());
      Map<String, String> models = trainFirstVersions(datasets, broker, config);
      try (TopicCollector collector =
          TopicCollector.start(broker.bootstrapServers(), config, "demo-report")) {
        JobClient job =
            ForecastJob.run(ForecastJob.localEnvironment(config), config, "forecaster-demo");
        try {
          out.printf(
              "job:      %s running on a local Flink mini cluster (127.0.0.1)%n", job.getJobID());
          awaitCaughtUp(collector, timeline);
          List<RoundRecord> rounds =
              feedLive(producer, config, timeline, collector, datasets, broker, stateDir);
          // every live reading settles the forecast made the day before it (the first, the forecast
          // from the last history day)
          long expected = timeline.liveByDay().stream().mapToLong(List::size).sum();
          collector.await(
              c -> c.liveEvaluations(timeline.liveFrom()) >= expected,
              Duration.ofSeconds(60),
              () -> stopping);
          checkNotStopping();
          return new ReportData(
              timeline.history().size() + timeline.liveByDay().stream().mapToLong(List::size).sum(),
              List.copyOf(collector.forecasts),
              List.copyOf(collector.evaluations),
              List.copyOf(collector.deadLetters),
              models,
              timeline.liveFrom(),
              rounds);
        } finally {
          job.cancel().get(30, TimeUnit.SECONDS);
        }
      }
    }
  }

  /**
   * History and live part of every series: the last {@code liveDays} readings of each are live.
   * Each series in day order, a repeated day once, as the job and the trainer take them (a CSV may
   * list newest first).
   */
  private Timeline timeline(List<Dataset> datasets) {
    Map<String, LocalDate> liveFrom = new LinkedHashMap<>();
    List<Reading> history = new ArrayList<>();
    List<List<Reading>> liveByDay = new ArrayList<>();
    for (Dataset d : datasets) {
      for (var series : History.ofFile(d.readings()).bySeries().entrySet()) {
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
    return new Timeline(history, liveByDay, liveFrom);
  }

  private void replay(
      KafkaProducer<byte[], byte[]> producer, JobConfig config, List<Reading> history) {
    ReadingsProducer.Failures failures = new ReadingsProducer.Failures();
    try (ProgressBar bar = ProgressBars.of("replaying history", history.size(), " readings")) {
      for (Reading r : history) {
        producer.send(ReadingsProducer.record(config.readingsTopic(), r), failures);
        bar.step();
      }
      producer.flush();
    }
    failures.throwIfAny(history.size(), config.readingsTopic(), config.bootstrapServers());
  }

  /** A first version of every model from the history read back from the readings topic. */
  private Map<String, String> trainFirstVersions(
      List<Dataset> datasets, LocalKafkaBroker broker, JobConfig config) {
    Map<String, Object> kafka =
        Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    ModelRegistry registry = new ModelRegistry(kafka, config.modelsTopic());
    KafkaHistory.Read read =
        KafkaHistory.read(kafka, config.readingsTopic(), Duration.ofSeconds(30));
    out.printf(
        "history:  %d readings of %d series read back from topic %s%n",
        read.history().readings(), read.history().bySeries().size(), config.readingsTopic());
    Map<String, String> models = new LinkedHashMap<>();
    for (Dataset d : datasets) {
      checkNotStopping();
      models.put(d.spec().name(), trainFirstVersion(d, read.history(), registry));
    }
    return models;
  }

  /**
   * The first version goes in service even if it does not beat persistence: a job needs a model. It
   * is the search's closed forms alone over the model's window (least squares of every form, the
   * drift and persistence, chosen on rolling origins before the test part: a budget of 0), ready in
   * seconds so that forecasting starts at once with the best of the simplest forecasts on the
   * history; the trainer's round in the live period trains the networks, published only if they
   * beat it. A history too short for a search gets a network trained briefly instead.
   */
  private String trainFirstVersion(Dataset d, History all, ModelRegistry registry) {
    // the dataset's own series (a custom CSV may share feature names with the shipped weather)
    Set<String> series =
        d.readings().stream().map(Reading::getSeriesId).collect(Collectors.toSet());
    History own =
        History.of(
            all.bySeries().entrySet().stream()
                .filter(e -> series.contains(e.getKey()))
                .flatMap(e -> e.getValue().stream())
                .toList());
    ModelSpec spec = d.spec();
    TrainingRun.Request request =
        TrainingRun.Request.publish(spec.withMembers(1), d.training(), null, registry)
            .publishingTheFirstVersion(true);
    TrainingRun.Outcome o;
    String how;
    try {
      o =
          new TrainingRun(Clock.systemUTC())
              .run(
                  own,
                  request.searching(
                      (d.search() != null ? d.search() : Selection.Space.wide())
                          .withWindows(List.of(spec.windowLength())),
                      Duration.ZERO),
                  epoch -> {});
      how =
          "closed forms only ("
              + o.selection().chosen().describe()
              + ", chosen on the history's rolling origins)";
    } catch (Selection.TooShortForASearch e) {
      try (ProgressBar bar = ProgressBars.of("training " + spec.name() + " v1", 0, " epochs")) {
        o =
            new TrainingRun(Clock.systemUTC())
                .run(
                    own,
                    TrainingRun.Request.publish(
                            spec.withMembers(1),
                            d.training().withEpochs(BRIEF_EPOCHS),
                            null,
                            registry)
                        .publishingTheFirstVersion(true),
                    epoch -> bar.step());
      }
      how =
          "trained briefly (1 network, at most "
              + BRIEF_EPOCHS
              + " epochs: "
              + e.getMessage()
              + ")";
    }
    String line =
        String.format(
            "%s: first version, %s: backtest MAE %.3f vs persistence %.3f; %s",
            spec.name(), how, o.model().mae(), o.persistence().mae(), o.explanation());
    out.println("trained:  " + line);
    return line;
  }

  /**
   * Caught up: every series has its forecast from its last history day (the latest window of a
   * series is scored even if it came before the model).
   */
  private void awaitCaughtUp(TopicCollector collector, Timeline timeline)
      throws InterruptedException {
    Map<String, LocalDate> lastHistoryDay = new LinkedHashMap<>();
    timeline
        .history()
        .forEach(
            r -> lastHistoryDay.merge(r.getSeriesId(), r.getDay(), (a, b) -> a.isAfter(b) ? a : b));
    collector.await(
        c ->
            lastHistoryDay.entrySet().stream()
                .allMatch(
                    e ->
                        c.forecasts.stream()
                            .anyMatch(
                                f ->
                                    f.getSeriesId().equals(e.getKey())
                                        && f.getBaseDay().equals(e.getValue()))),
        Duration.ofSeconds(120),
        () -> stopping);
  }

  /** Feeds the live days at the demo's pace; the trainer's round runs half-way. */
  private List<RoundRecord> feedLive(
      KafkaProducer<byte[], byte[]> producer,
      JobConfig config,
      Timeline timeline,
      TopicCollector collector,
      List<Dataset> datasets,
      LocalKafkaBroker broker,
      Path stateDir)
      throws Exception {
    List<List<Reading>> days = timeline.liveByDay();
    long fed = timeline.history().size();
    List<RoundRecord> rounds = new ArrayList<>();
    int retrainDay = days.size() / 2;
    for (int day = 0; day < days.size(); day++) {
      checkNotStopping();
      if (day == retrainDay && day > 0) {
        rounds.addAll(retrain(datasets, broker, config, day, days.size(), stateDir));
      }
      ReadingsProducer.Failures failures = new ReadingsProducer.Failures();
      for (Reading r : days.get(day)) {
        producer.send(ReadingsProducer.record(config.readingsTopic(), r), failures);
      }
      producer.flush();
      failures.throwIfAny(days.get(day).size(), config.readingsTopic(), config.bootstrapServers());
      fed += days.get(day).size();
      Thread.sleep(paceMs);
      out.println(progress(collector, day + 1, days.size(), fed, timeline.liveFrom()));
      out.flush();
    }
    return rounds;
  }

  /**
   * The trainer's scheduled round, half-way through the live period, for every model: {@code
   * forecast trainer --once} with the model's flags, each in a JVM of its own, side by side up to
   * one per core (DJL trains one network at a time per JVM). Each is the trainer service's own
   * round: history from the readings topic up to now, training the model's own form (a preset's
   * with at most {@link DemoCommand#MAX_MEMBERS} networks per horizon, a --csv model's searched
   * first), backtest against persistence and the version in service, published only if better. The
   * feed waits for it, so that the switch falls inside the live period however long it takes.
   */
  private List<RoundRecord> retrain(
      List<Dataset> datasets,
      LocalKafkaBroker broker,
      JobConfig config,
      int day,
      int days,
      Path stateDir)
      throws Exception {
    int sideBySide =
        Math.max(1, Math.min(datasets.size(), Runtime.getRuntime().availableProcessors()));
    out.printf(
        "trainer:  scheduled round at live day %d/%d, %d trainer process(es) at once; the feed"
            + " waits for it%n",
        day, days, sideBySide);
    out.flush();
    String reason = "scheduled retraining, live day " + day + " of " + days;
    List<String> common =
        new ArrayList<>(
            List.of("trainer", "--once", "--reason", reason, "--history-timeout", "30s"));
    common.addAll(
        TrainerCommand.kafkaFlags(
            broker.bootstrapServers(),
            config.readingsTopic(),
            config.modelsTopic(),
            config.evaluationsTopic()));
    checkNotStopping();
    ExecutorService pool = Executors.newFixedThreadPool(sideBySide);
    try {
      List<Future<RoundRecord>> rounds = new ArrayList<>();
      for (int i = 0; i < datasets.size(); i++) {
        Dataset d = datasets.get(i);
        Path dir = stateDir.resolve("model-" + i);
        rounds.add(pool.submit(() -> round(d, common, dir, reason)));
      }
      List<RoundRecord> records = new ArrayList<>();
      for (Future<RoundRecord> r : rounds) {
        try {
          records.add(r.get());
        } catch (ExecutionException e) {
          throw e.getCause() instanceof Exception cause ? cause : e;
        }
      }
      checkNotStopping();
      return records;
    } finally {
      pool.shutdownNow(); // a round still running (another failed) stops its trainer: see round
      pool.awaitTermination(15, TimeUnit.SECONDS);
    }
  }

  /** One model's round in a trainer process of its own; its record from the decision log. */
  private RoundRecord round(Dataset d, List<String> common, Path dir, String reason)
      throws IOException, InterruptedException {
    Files.createDirectories(dir);
    List<String> args = new ArrayList<>(common);
    args.addAll(List.of("--state-dir", dir.toString()));
    args.addAll(d.trainerFlags());
    Path log = dir.resolve("trainer.log");
    ProcessBuilder command =
        new ProcessBuilder(ChildJvm.forecast(List.of("-Xmx2g"), args))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    Process trainer;
    synchronized (trainers) { // Ctrl-C stops every trainer started, and none starts after it
      checkNotStopping();
      trainer = command.start();
      trainers.add(trainer);
    }
    int exit;
    try {
      while (!trainer.waitFor(1, TimeUnit.SECONDS)) {
        if (stopping) { // Ctrl-C sent SIGTERM: a trainer that has not ended 10 s later gets SIGKILL
          stopNow(trainer);
        }
      }
      exit = trainer.exitValue();
    } catch (InterruptedException e) {
      stopNow(trainer); // the demo is ending: its broker and state folder go next
      throw e;
    } finally {
      trainers.remove(trainer);
    }
    RoundRecord r =
        new DecisionLog(dir.resolve("decisions.jsonl"))
            .last()
            .orElseGet(
                () ->
                    RoundRecord.builder()
                        .trigger("schedule")
                        .reason(reason)
                        .modelName(d.spec().name())
                        .decision("failed")
                        .error(
                            "the trainer process exited with status "
                                + exit
                                + " before it recorded a decision; its output: "
                                + tail(log))
                        .build());
    synchronized (out) {
      out.printf(
          "trainer:  %s: %s%n",
          d.spec().name(), r.explanation() != null ? r.explanation() : r.error());
      out.flush();
    }
    return r;
  }

  /** SIGTERM, then SIGKILL if the trainer has not ended within 10 s. */
  private static void stopNow(Process trainer) {
    trainer.destroy();
    try {
      if (!trainer.waitFor(10, TimeUnit.SECONDS)) {
        trainer.destroyForcibly();
      }
    } catch (InterruptedException e) {
      trainer.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** The last lines of a child's output, for an error message. */
  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  /**
   * The console line of a live day: per series and horizon (h = 1 first, then the others after a
   * slash), the live MAE, persistence's, and how often the actual fell inside each interval.
   */
  private static String progress(
      TopicCollector c, int day, int days, long readings, Map<String, LocalDate> liveFrom) {
    StringBuilder line =
        new StringBuilder(
            String.format(
                "live day %3d/%d  readings %6d  forecasts %6d  |",
                day, days, readings, c.forecasts.size()));
    Map<Integer, List<Evaluation>> byHorizon =
        c.evaluations.stream()
            .collect(
                Collectors.groupingBy(Evaluation::getHorizon, TreeMap::new, Collectors.toList()));
    for (var series : liveFrom.entrySet()) {
      List<String> model = new ArrayList<>();
      List<String> persistence = new ArrayList<>();
      Map<Double, List<String>> inside = new TreeMap<>();
      for (List<Evaluation> es : byHorizon.values()) {
        double[] mae = Report.liveMae(es, series.getKey(), series.getValue());
        model.add(fmt(mae[0]));
        persistence.add(fmt(mae[1]));
        Map<Double, Double> coverage = Report.liveCoverage(es, series.getKey(), series.getValue());
        for (double level : Conformal.LEVELS) {
          Double share = coverage.get(level);
          inside
              .computeIfAbsent(level, l -> new ArrayList<>())
              .add(share == null ? "-" : String.format("%.0f", share * 100));
        }
      }
      inside.values().removeIf(shares -> shares.stream().allMatch("-"::equals));
      line.append(
          String.format(
              "  %s MAE %s (persistence %s)%s",
              series.getKey(),
              model.isEmpty() ? "-" : String.join("/", model),
              persistence.isEmpty() ? "-" : String.join("/", persistence),
              inside.entrySet().stream()
                  .map(
                      e ->
                          String.format(
                              " %.0f%%:%s%%", e.getKey() * 100, String.join("/", e.getValue())))
                  .collect(Collectors.joining("", inside.isEmpty() ? "" : " inside", ""))));
    }
    return line.toString();
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "-" : String.format("%.2f", v);
  }

  private void checkNotStopping() {
    if (stopping) {
      throw new CancellationException("stopped (Ctrl-C)");
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a temporary folder left behind is not worth failing the demo for
    }
  }
}
