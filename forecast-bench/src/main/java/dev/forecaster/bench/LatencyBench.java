package dev.forecaster.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.Reading;
import dev.forecaster.cli.ReadingsProducer;
import dev.forecaster.job.ForecastJob;
import dev.forecaster.job.JobConfig;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.RecordDecodingException;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Reading-to-forecast latency at a steady rate, at-least-once. */
@Command(
    name = "latency",
    mixinStandardHelpOptions = true,
    description =
        "p50/p99 from a reading's send to its forecast's arrival, at a steady rate, at-least-once"
            + " delivery.")
final class LatencyBench extends SteadyLoadBench implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--broker",
      paramLabel = "in-process|process",
      defaultValue = "in-process",
      description =
          "The broker in a JVM of its own, as in production, or in the job's (default:"
              + " ${DEFAULT-VALUE}).")
  String brokerMode;

  @Option(
      names = "--reader-fetch-min-bytes",
      defaultValue = "1",
      description =
          "fetch.min.bytes of the forecasts reader, which waits at most 5 ms for them (default:"
              + " ${DEFAULT-VALUE}).")
  int readerFetchMinBytes;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    if (!brokerMode.equals("process") && !brokerMode.equals("in-process")) {
      throw new ParameterException(spec.commandLine(), "--broker is process or in-process");
    }
    try (BenchBroker broker =
        brokerMode.equals("process") ? BenchBroker.separateProcess() : BenchBroker.inProcess()) {
      Map<String, String> job =
          new LinkedHashMap<>(
              Map.of("delivery.guarantee", "at-least-once", "checkpoint.interval.ms", "5000"));
      job.putAll(settings);
      JobConfig config = BenchSupport.topics(broker, "latency", 2, job);
      ModelSpec model = modelOption.spec("bench");
      BenchSupport.publishModel(broker.bootstrapServers(), config.modelsTopic(), model);
      int maxDays = maxWarmDays(model) + measuredDays();
      // one slot per reading (day x series) in flat arrays: the harness allocates nothing per
      // record, so that its own garbage does not show up as the job's latency
      Sends sends = new Sends(maxDays, series);
      List<ProducerRecord<byte[], byte[]>> records = encode(config, maxDays, series);
      AtomicBoolean stop = new AtomicBoolean();
      JobClient running =
          ForecastJob.run(ForecastJob.localEnvironment(config), config, "latency", false);
      Thread reader =
          new Thread(
              () -> read(broker, config.forecastsTopic(), readerFetchMinBytes, sends, stop),
              "forecast-reader");
      reader.setDaemon(true);
      reader.start();
      int warmDays = sendAtRate(broker, records, model, sends, day -> {});
      int days = warmDays + measuredDays();
      sends.awaitForecasts(days, model.readingsPerWindow(), Duration.ofSeconds(10));
      running.cancel().get();
      stop.set(true); // the reader closes its consumer itself: an interrupt would make it complain
      reader.join(5000);
      ObjectNode out = report(config, job, days, warmDays, sends);
      out.put("model", modelOption.model);
      out.put("networks", model.members() * model.horizons());
      spec.commandLine().getOut().println(out);
      err.flush();
    }
    return 0;
  }

  /** Every record encoded before the clock starts: the send loop only paces and sends. */
  static List<ProducerRecord<byte[], byte[]>> encode(JobConfig config, int days, int series)
      throws Exception {
    List<Reading> seattle = BenchSupport.seattle();
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int d = 0; d < days; d++) {
      for (int s = 0; s < series; s++) {
        records.add(
            ReadingsProducer.record(config.readingsTopic(), BenchSupport.synthetic(seattle, s, d)));
      }
    }
    return records;
  }

  /**
   * Sends at the rate, day by day, recording each send in {@code sends}: from the first day on
   * which at least {@code minWarmDays} were sent (a full window) and {@code warmedUp} says so,
   * {@code measuredDays} more, calling {@code measuring} with that day first.
   *
   * @return the first measured day
   * @throws IllegalStateException when {@code records} ran out before the warm-up ended (the job
   *     made no forecast)
   */
  static int send(
      BenchBroker broker,
      List<ProducerRecord<byte[], byte[]>> records,
      int rate,
      int lingerMs,
      int minWarmDays,
      BooleanSupplier warmedUp,
      int measuredDays,
      Sends sends,
      IntConsumer measuring) {
    int series = sends.series;
    int days = records.size() / series;
    int from = -1;
    try (KafkaProducer<byte[], byte[]> producer =
        ReadingsProducer.open(broker.bootstrapServers(), lingerMs, 16384)) {
      long interval = 1_000_000_000L / rate;
      long next = System.nanoTime();
      for (int d = 0; from < 0 || d < from + measuredDays; d++) {
        if (from < 0 && d + measuredDays > days) {
          throw new IllegalStateException(
              "the job made no forecast within about "
                  + START_ALLOWANCE_SECONDS
                  + " s of the first reading (its log says why)");
        }
        if (from < 0 && d >= minWarmDays && warmedUp.getAsBoolean()) {
          from = d; // windows complete, the start's backlog worked off, code compiled
          next = System.nanoTime();
          measuring.accept(d);
        }
        for (int s = 0; s < series; s++) {
          long wait = next - System.nanoTime();
          if (wait > 0) { // park, never spin: a spinning producer would take one of the two cores
            LockSupport.parkNanos(wait);
          }
          sends.sent(d, s, System.nanoTime(), System.currentTimeMillis());
          producer.send(records.get(d * series + s));
          next += interval;
        }
      }
      producer.flush();
    }
    return from;
  }

  private ObjectNode report(
      JobConfig config, Map<String, String> job, int days, int warmDays, Sends sends) {
    long measuredFrom = sends.sentAt[warmDays * series];
    long[] sorted = sends.measured(warmDays, sends.latency);
    long[] scorerSorted = sends.measured(warmDays, sends.toScored);
    Arrays.sort(sorted);
    Arrays.sort(scorerSorted);
    ObjectNode out = BenchSupport.JSON.createObjectNode();
    out.put("rate", rate);
    out.put("broker", brokerMode);
    out.put("producerLingerMs", producerLingerMs);
    out.put("readerFetchMinBytes", readerFetchMinBytes);
    out.set("job", BenchSupport.JSON.valueToTree(job));
    out.put("checkpointIntervalMs", config.checkpointIntervalMs());
    out.put("warmupSeconds", warmupSeconds);
    out.put("measuredFromSecond", Math.round((measuredFrom - sends.sentAt[0]) / 1e8) / 10.0);
    out.put("sent", (long) (days - warmDays) * series);
    out.put("forecasts", sorted.length);
    out.put("p50Ms", percentile(sorted, 0.50));
    out.put("p99Ms", percentile(sorted, 0.99));
    out.put("maxMs", sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1e6);
    // where the time goes: send -> the forecast made in the scorer (its createdAt, millisecond
    // clock)
    out.put("toScoredP50Ms", percentile(scorerSorted, 0.50));
    out.put("toScoredP99Ms", percentile(scorerSorted, 0.99));
    // per second of sending: the p99 of the readings sent in it (a stall shows as one bad second)
    TreeMap<Long, List<Long>> bySecond = new TreeMap<>();
    for (int i = warmDays * series; i < sends.sentAt.length; i++) {
      if (sends.latency[i] >= 0) {
        bySecond
            .computeIfAbsent(
                (sends.sentAt[i] - measuredFrom) / 1_000_000_000L, k -> new ArrayList<>())
            .add(sends.latency[i]);
      }
    }
    ArrayNode perSecond = out.putArray("p99BySecondMs");
    bySecond
        .values()
        .forEach(
            l ->
                perSecond.add(
                    percentile(l.stream().mapToLong(Long::longValue).sorted().toArray(), 0.99)));
    return out;
  }

  static double percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return Math.round(
            sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1e5)
        / 10.0;
  }

  /**
   * Send times and latencies of every reading, by day and series; -1 until its forecast arrived.
   */
  static final class Sends {
    final int series;
    final long[] sentAt;
    final long[] sentWall;
    final long[] latency;
    final long[] toScored;
    private volatile long arrivedCount;
    private volatile long newestMadeAfterMs = Long.MAX_VALUE;

    Sends(int days, int series) {
      this.series = series;
      sentAt = new long[days * series];
      sentWall = new long[days * series];
      latency = new long[days * series];
      toScored = new long[days * series];
      Arrays.fill(latency, -1);
      Arrays.fill(toScored, -1);
    }

    void sent(int day, int s, long nanos, long wallMs) {
      sentAt[day * series + s] = nanos;
      sentWall[day * series + s] = wallMs;
    }

    /** The forecast from series {@code s}'s reading of {@code day} arrived at {@code nanos}. */
    void arrived(int day, int s, long nanos, long createdAtMs) {
      int i = day * series + s;
      if (i >= 0 && i < sentAt.length && sentAt[i] != 0 && latency[i] < 0) {
        toScored[i] = (createdAtMs - sentWall[i]) * 1_000_000L;
        made(i, createdAtMs);
        latency[i] = nanos - sentAt[i]; // written last: the reader's mark that the slot is complete
        arrivedCount = arrivedCount + 1; // one writer: the reader thread
      }
    }

    /**
     * How long after its reading's send the newest forecast to arrive was made, in milliseconds
     * ({@link Long#MAX_VALUE} before one came).
     */
    long newestMadeAfterMs() {
      return newestMadeAfterMs;
    }

    /** Records that a forecast of slot {@code i} (day × series) was made at {@code createdAtMs}. */
    void made(int i, long createdAtMs) {
      if (i >= 0 && i < sentWall.length && sentWall[i] != 0) {
        newestMadeAfterMs = createdAtMs - sentWall[i];
      }
    }

    /**
     * Waits until every reading of the first {@code days} that completes a window of {@code window}
     * readings has its forecast, or the timeout passes.
     */
    void awaitForecasts(int days, int window, Duration timeout) throws InterruptedException {
      long expected = (long) (days - window + 1) * series;
      long end = System.nanoTime() + timeout.toNanos();
      while (arrivedCount < expected && System.nanoTime() < end) {
        Thread.sleep(20);
      }
    }

    long[] measured(int fromDay, long[] values) {
      return Arrays.stream(values, fromDay * series, values.length).filter(v -> v >= 0).toArray();
    }
  }

  private static void read(
      BenchBroker broker, String topic, int fetchMinBytes, Sends sends, AtomicBoolean stop) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "latency-reader");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "5");
    p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, Integer.toString(fetchMinBytes));
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      while (!stop.get()) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
          long now = System.nanoTime();
          try {
            Forecast f = Codecs.FORECAST.decode(r.value());
            int s = Integer.parseInt(f.getSeriesId().substring("station-".length()));
            sends.arrived(
                (int) (f.getBaseDay().toEpochDay() - BenchSupport.DAY_ZERO.toEpochDay()),
                s,
                now,
                f.getCreatedAt().toEpochMilli());
          } catch (RecordDecodingException | NumberFormatException e) {
            // not a forecast of this benchmark: not counted
          }
        }
      }
    }
  }
}
