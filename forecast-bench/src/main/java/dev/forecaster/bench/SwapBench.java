package dev.forecaster.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.job.ForecastJob;
import dev.forecaster.job.JobConfig;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ModelUpdates;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.RecordDecodingException;
import dev.forecaster.trainer.ModelRegistry;
import dev.forecaster.trainer.TrainingRun;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Model swaps under load: readings at a steady rate, a new version of the served model published
 * every few seconds, every forecast read back read_committed.
 *
 * <p>Times are taken where the job makes a forecast (its {@code createdAt}): {@code maxGapMs} is
 * the largest gap between consecutive forecasts made, {@code p99DuringSwapMs} the p99 from a
 * reading's send to its first forecast's making, over the readings sent from a version's
 * publication until {@code --swap-window-ms} after its first forecast. A read_committed consumer
 * sees forecasts only at each checkpoint, which no swap changes: {@code maxArrivalGapMs} shows it.
 * {@code lost} counts the measured readings' forecasts that never came; {@code duplicated} every
 * forecast that came twice, warm-up included.
 */
@Command(
    name = "swap",
    mixinStandardHelpOptions = true,
    description =
        "Readings at a steady rate while a new model version is published every --every-seconds:"
            + " the largest gap between forecasts made, the p99 from send to forecast made during"
            + " swaps, forecasts lost and duplicated (the job exactly-once, read back"
            + " read_committed).")
final class SwapBench extends SteadyLoadBench implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--every-seconds",
      defaultValue = "10",
      description = "A new version this often while measuring (default: ${DEFAULT-VALUE}).")
  int everySeconds;

  @Option(
      names = "--swap-window-ms",
      defaultValue = "1000",
      description =
          "A reading counts as sent during a swap from the publication of a version until this"
              + " long after its first forecast (default: ${DEFAULT-VALUE}).")
  long swapWindowMs;

  @Override
  public Integer call() throws Exception {
    if (rate < 1 || seconds < 1 || everySeconds < 1 || everySeconds >= seconds || series < 1) {
      throw new ParameterException(
          spec.commandLine(),
          "--rate, --seconds, --series and --every-seconds are positive, --every-seconds below"
              + " --seconds");
    }
    PrintWriter err = spec.commandLine().getErr();
    try (BenchBroker broker = BenchBroker.inProcess()) {
      Map<String, String> job = new LinkedHashMap<>(Map.of("delivery.guarantee", "exactly-once"));
      job.putAll(settings);
      JobConfig config = BenchSupport.topics(broker, "swap", 2, job);
      ModelSpec model = modelOption.spec(config.modelName());
      ModelRegistry registry = new ModelRegistry(config.kafkaClientMap(), config.modelsTopic());
      List<ModelUpdate> versions = new ArrayList<>();
      try (TrainingRun.Trained trained = BenchSupport.train(model)) {
        int swaps = (seconds - 1) / everySeconds;
        for (long v = 1; v <= swaps + 1; v++) {
          ModelSpec s = trained.spec().withVersion(v, System.currentTimeMillis());
          versions.add(ModelUpdates.of(s, ModelArtifact.write(trained.model(), s)));
        }
      }
      registry.publish(versions.get(0));
      int maxDays = maxWarmDays(model) + measuredDays();
      var records = LatencyBench.encode(config, maxDays, series);
      LatencyBench.Sends sends = new LatencyBench.Sends(maxDays, series);
      Arrivals arrivals = new Arrivals(maxDays, series, model.horizons(), sends);
      JobClient running =
          ForecastJob.run(ForecastJob.localEnvironment(config), config, "swap", false);
      AtomicBoolean stop = new AtomicBoolean();
      Thread reader = new Thread(() -> read(config, arrivals, stop), "forecast-reader");
      reader.setDaemon(true);
      reader.start();
      CountDownLatch measuring = new CountDownLatch(1);
      long[] publishedAt = new long[versions.size()];
      Thread publisher =
          new Thread(
              () -> publish(registry, versions, measuring, publishedAt, err), "model-publisher");
      publisher.setDaemon(true);
      publisher.start();
      int warmDays =
          sendAtRate(
              broker,
              records,
              model,
              sends,
              day -> {
                arrivals.measureFrom(day * series);
                measuring.countDown();
              });
      publisher.join();
      int days = warmDays + measuredDays();
      long expected = (long) (days - warmDays) * series * model.horizons();
      arrivals.await(expected, Duration.ofSeconds(30 + 2 * config.checkpointIntervalMs() / 1000));
      running.cancel().get();
      stop.set(true);
      reader.join(30_000);
      if (reader.isAlive()) {
        throw new IllegalStateException("the forecasts reader did not stop");
      }
      ObjectNode out = report(config, model, days, warmDays, sends, arrivals, publishedAt);
      out.set("job", BenchSupport.JSON.valueToTree(job));
      spec.commandLine().getOut().println(out);
      err.flush();
    }
    return 0;
  }

  /** Publishes version 2, 3, … every {@code everySeconds} once measuring starts. */
  private void publish(
      ModelRegistry registry,
      List<ModelUpdate> versions,
      CountDownLatch measuring,
      long[] publishedAt,
      PrintWriter err) {
    try {
      measuring.await();
      long start = System.nanoTime();
      for (int i = 1; i < versions.size(); i++) {
        long due = start + TimeUnit.SECONDS.toNanos((long) everySeconds * i);
        TimeUnit.NANOSECONDS.sleep(Math.max(0, due - System.nanoTime()));
        publishedAt[i] = System.currentTimeMillis();
        registry.publish(versions.get(i));
        err.printf("published v%d%n", versions.get(i).getVersion());
        err.flush();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private ObjectNode report(
      JobConfig config,
      ModelSpec model,
      int days,
      int warmDays,
      LatencyBench.Sends sends,
      Arrivals arrivals,
      long[] publishedAt) {
    int h = model.horizons();
    int from = warmDays * series;
    int slots = days * series;
    long expected = (long) (slots - from) * h;
    long received = 0;
    long duplicated = 0;
    List<Long> created = new ArrayList<>();
    List<Long> arrived = new ArrayList<>();
    for (int i = 0; i < slots * h; i++) {
      if (arrivals.count[i] > 1) {
        duplicated += arrivals.count[i] - 1;
      }
      if (i / h >= from && arrivals.count[i] > 0) {
        received++;
        created.add(arrivals.createdAt[i]);
        arrived.add(arrivals.arrivedAt[i]);
      }
    }
    // each version's first forecast: when the swap took effect
    TreeMap<Long, Long> firstForecast = new TreeMap<>(arrivals.firstCreatedByVersion);
    List<long[]> swapWindows = new ArrayList<>();
    ArrayNode swaps = BenchSupport.JSON.createArrayNode();
    for (int i = 1; i < publishedAt.length; i++) {
      Long first = firstForecast.get((long) i + 1);
      ObjectNode s = swaps.addObject().put("version", i + 1).put("publishedAtMs", publishedAt[i]);
      if (first != null) {
        s.put("firstForecastAfterMs", first - publishedAt[i]);
        swapWindows.add(new long[] {publishedAt[i], first + swapWindowMs});
      }
    }
    // latency of each measured reading's first forecast, from its send to its creation
    List<Long> during = new ArrayList<>();
    List<Long> outside = new ArrayList<>();
    for (int i = from; i < slots; i++) {
      int first = i * h;
      if (arrivals.count[first] == 0) {
        continue;
      }
      long sent = sends.sentWall[i];
      long latencyNanos = (arrivals.createdAt[first] - sent) * 1_000_000L;
      boolean inSwap = swapWindows.stream().anyMatch(w -> sent >= w[0] && sent <= w[1]);
      (inSwap ? during : outside).add(latencyNanos);
    }
    ObjectNode out = BenchSupport.JSON.createObjectNode();
    out.put("rate", rate);
    out.put("seconds", seconds);
    out.put("everySeconds", everySeconds);
    out.put("model", modelOption.model);
    out.put("networks", model.members() * model.horizons());
    out.put("horizons", h);
    out.put("checkpointIntervalMs", config.checkpointIntervalMs());
    out.put("producerLingerMs", producerLingerMs);
    out.put("warmupSeconds", warmupSeconds);
    out.put("measuredFromSecond", Math.round((sends.sentAt[from] - sends.sentAt[0]) / 1e8) / 10.0);
    out.put("expectedForecasts", expected);
    out.put("lost", expected - received);
    out.put("duplicated", duplicated);
    out.put("maxGapMs", largestGap(created));
    out.put("maxArrivalGapMs", largestGap(arrived));
    out.put("p99DuringSwapMs", LatencyBench.percentile(sorted(during), 0.99));
    out.put("p99OutsideSwapsMs", LatencyBench.percentile(sorted(outside), 0.99));
    out.put("readingsDuringSwaps", during.size());
    out.set("swaps", swaps);
    out.set("forecastsByVersion", BenchSupport.JSON.valueToTree(arrivals.byVersion));
    return out;
  }

  private static long[] sorted(List<Long> values) {
    long[] a = values.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(a);
    return a;
  }

  /** The largest difference between consecutive times, in milliseconds. */
  private static long largestGap(List<Long> millis) {
    long[] t = sorted(millis);
    long gap = 0;
    for (int i = 1; i < t.length; i++) {
      gap = Math.max(gap, t[i] - t[i - 1]);
    }
    return gap;
  }

  /** Every forecast read back, by reading (day × series) and horizon. */
  static final class Arrivals {
    final int series;
    final int horizons;
    final int[] count;
    final long[] createdAt;
    final long[] arrivedAt;
    final Map<Long, Long> byVersion = new TreeMap<>();
    final Map<Long, Long> firstCreatedByVersion = new TreeMap<>();
    private volatile int fromSlot = Integer.MAX_VALUE;
    private volatile long measuredArrivals;

    private final LatencyBench.Sends sends;

    /**
     * Room for {@code days} of {@code series}; counts nothing as measured until told from when;
     * tells {@code sends} when each reading's first forecast was made.
     */
    Arrivals(int days, int series, int horizons, LatencyBench.Sends sends) {
      this.sends = sends;
      this.series = series;
      this.horizons = horizons;
      count = new int[days * series * horizons];
      createdAt = new long[count.length];
      arrivedAt = new long[count.length];
    }

    /** One reader thread calls this. */
    void arrived(Forecast f, long nowMs) {
      int day = (int) (f.getBaseDay().toEpochDay() - BenchSupport.DAY_ZERO.toEpochDay());
      int s = Integer.parseInt(f.getSeriesId().substring("station-".length()));
      int reading = day * series + s;
      int i = reading * horizons + f.getHorizon() - 1;
      if (i < 0 || i >= count.length || s >= series || f.getHorizon() > horizons) {
        return;
      }
      if (count[i]++ == 0) {
        createdAt[i] = f.getCreatedAt().toEpochMilli();
        arrivedAt[i] = nowMs;
        sends.made(reading, createdAt[i]);
        if (reading >= fromSlot) {
          measuredArrivals = measuredArrivals + 1;
        }
      }
      byVersion.merge(f.getModelVersion(), 1L, Long::sum);
      firstCreatedByVersion.merge(f.getModelVersion(), f.getCreatedAt().toEpochMilli(), Math::min);
    }

    /** Counts the forecasts of readings from slot {@code slot} (day × series) on as measured. */
    void measureFrom(int slot) {
      fromSlot = slot; // before any reading of that slot is sent
    }

    /** Waits until {@code expected} distinct forecasts of measured readings have come. */
    void await(long expected, Duration timeout) throws InterruptedException {
      long end = System.nanoTime() + timeout.toNanos();
      while (measuredArrivals < expected && System.nanoTime() < end) {
        Thread.sleep(50);
      }
    }
  }

  private static void read(JobConfig config, Arrivals arrivals, AtomicBoolean stop) {
    Properties p = new Properties();
    p.putAll(config.kafkaClientMap());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "swap-reader");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "5");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(config.forecastsTopic()));
      while (!stop.get()) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
          try {
            arrivals.arrived(Codecs.FORECAST.decode(r.value()), System.currentTimeMillis());
          } catch (RecordDecodingException | NumberFormatException e) {
            // not a forecast of this benchmark: not counted
          }
        }
      }
    }
  }
}
