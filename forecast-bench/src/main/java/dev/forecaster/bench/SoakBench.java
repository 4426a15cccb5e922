package dev.forecaster.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.cli.ReadingsProducer;
import dev.forecaster.job.JobConfig;
import dev.forecaster.trainer.BoundedRead;
import dev.forecaster.trainer.ModelRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.commons.math3.stat.regression.SimpleRegression;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The job for a long while at a steady rate, with a new model version every minute: memory sampled
 * each minute (heap after a full collection, the process's resident set, and the part of it outside
 * the heap, where PyTorch allocates), and the slopes after warm-up.
 */
@Command(
    name = "soak",
    mixinStandardHelpOptions = true,
    description =
        "Readings at a steady rate for minutes, a model swap every minute; heap after GC, RSS and"
            + " off-heap memory each minute (a JSON line each), then the slopes after warm-up.")
final class SoakBench implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--minutes",
      defaultValue = "20",
      description = "How long (default: ${DEFAULT-VALUE}).")
  int minutes;

  @Option(
      names = "--rate",
      defaultValue = "2000",
      description = "Readings per second (default: ${DEFAULT-VALUE}).")
  int rate;

  @Option(
      names = "--series",
      defaultValue = "2000",
      description = "Series; each gets a reading per day (default: ${DEFAULT-VALUE}).")
  int series;

  @Option(
      names = "--warm-up",
      defaultValue = "5",
      description = "Minutes left out of the slopes (default: ${DEFAULT-VALUE}).")
  int warmUp;

  @Option(
      names = "--out",
      defaultValue = "out/soak",
      description = "Checkpoints and samples.jsonl (default: ${DEFAULT-VALUE}).")
  Path out;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter log = spec.commandLine().getErr();
    Files.createDirectories(out);
    Files.deleteIfExists(out.resolve("samples.jsonl")); // this run's samples only
    try (BenchBroker broker = BenchBroker.separateProcess();
        BenchCluster cluster = BenchCluster.start(4)) {
      JobConfig config =
          BenchSupport.topics(
              broker,
              "soak",
              2,
              Map.of(
                  "checkpoint.interval.ms",
                  "5000",
                  "checkpoint.dir",
                  out.resolve("checkpoints").toAbsolutePath().toUri().toString()));
      BenchSupport.publishModel(
          broker.bootstrapServers(),
          config.modelsTopic(),
          BenchSupport.referenceSpec(config.modelName()));
      ModelRegistry registry = new ModelRegistry(config.kafkaClientMap(), config.modelsTopic());
      ModelUpdate v1 = registry.serving(config.modelName()).orElseThrow();
      cluster.submit(config, "soak", null);

      Sender sender = new Sender(broker, config);
      Thread sending = new Thread(sender, "soak-readings");
      sending.start();
      ArrayNode samples = BenchSupport.JSON.createArrayNode();
      long started = System.nanoTime();
      for (int minute = 1; minute <= minutes; minute++) {
        long due = started + TimeUnit.MINUTES.toNanos(minute);
        TimeUnit.NANOSECONDS.sleep(Math.max(0, due - System.nanoTime()));
        registry.publish(
            BenchSupport.reversioned(v1, minute + 1)); // validated and fenced, as the trainer does
        ObjectNode sample = sample(minute, sender, cluster);
        samples.add(sample);
        stdout.println(sample);
        stdout.flush();
        Files.writeString(
            out.resolve("samples.jsonl"),
            sample + "\n",
            java.nio.file.StandardOpenOption.CREATE,
            java.nio.file.StandardOpenOption.APPEND);
      }
      sender.stop = true;
      sending.join();
      ObjectNode summary = summary(samples, sender, cluster, config);
      stdout.println(summary);
      log.flush();
    }
    return 0;
  }

  private ObjectNode sample(int minute, Sender sender, BenchCluster cluster) throws Exception {
    System.gc(); // a full collection first: what is left is what the job holds
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    long rss = residentBytes();
    ObjectNode s = BenchSupport.JSON.createObjectNode();
    s.put("minute", minute);
    s.put("readingsSent", sender.sent.get());
    s.put("heapAfterGcMb", mb(heap.getUsed()));
    s.put("heapCommittedMb", mb(heap.getCommitted()));
    s.put("rssMb", mb(rss));
    s.put("offHeapMb", mb(rss - heap.getCommitted()));
    s.put("jobRestarts", cluster.restarts());
    s.put("sendErrors", sender.failures.count());
    return s;
  }

  private ObjectNode summary(
      ArrayNode samples, Sender sender, BenchCluster cluster, JobConfig config) throws Exception {
    ObjectNode s = BenchSupport.JSON.createObjectNode();
    s.put("minutes", minutes);
    s.put("ratePerSecond", rate);
    s.put("series", series);
    s.put("readingsSent", sender.sent.get());
    s.put("modelSwaps", minutes);
    s.put("forecastsCommitted", count(config, config.forecastsTopic()));
    s.put("jobRestarts", cluster.restarts());
    s.put("sendErrors", sender.failures.count());
    s.put("warmUpMinutes", warmUp);
    for (String field : List.of("heapAfterGcMb", "rssMb", "offHeapMb")) {
      SimpleRegression r = new SimpleRegression();
      samples.forEach(
          n -> {
            if (n.get("minute").asInt() > warmUp) {
              r.addData(n.get("minute").asDouble(), n.get(field).asDouble());
            }
          });
      s.put(field.replace("Mb", "") + "SlopeMbPerMinute", Math.round(r.getSlope() * 100) / 100.0);
    }
    return s;
  }

  private static long count(JobConfig config, String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      return BoundedRead.untilEndOffsets(c, topic, Duration.ofMinutes(5), r -> {});
    }
  }

  /** This process's resident set ({@code VmRSS} of /proc/self/status), in bytes. */
  private static long residentBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return -1;
  }

  private static double mb(long bytes) {
    return Math.round(bytes / 1024.0 / 1024.0 * 10) / 10.0;
  }

  /** Every series' reading of a day, then the next day, at the rate. */
  private final class Sender implements Runnable {
    final AtomicLong sent = new AtomicLong();
    final ReadingsProducer.Failures failures = new ReadingsProducer.Failures();
    final String topic;
    final KafkaProducer<byte[], byte[]> producer;
    final List<Reading> seattle;
    volatile boolean stop;

    Sender(BenchBroker broker, JobConfig config) throws IOException {
      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
      p.put(ProducerConfig.ACKS_CONFIG, "all");
      p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
      this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
      this.topic = config.readingsTopic();
      this.seattle = BenchSupport.seattle();
    }

    @Override
    public void run() {
      long interval = 1_000_000_000L / rate;
      long next = System.nanoTime();
      try (producer) {
        for (int day = 0; !stop; day++) {
          for (int s = 0; s < series && !stop; s++) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
              TimeUnit.NANOSECONDS.sleep(wait);
            }
            next += interval;
            producer.send(
                ReadingsProducer.record(topic, BenchSupport.synthetic(seattle, s, day)), failures);
            sent.incrementAndGet();
          }
        }
        producer.flush();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
