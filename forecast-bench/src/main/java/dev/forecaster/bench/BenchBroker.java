package dev.forecaster.bench;

import dev.forecaster.cli.ForecastCommand;
import dev.forecaster.kafka.LocalKafkaBroker;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The Kafka broker a benchmark runs against: in this JVM, or in a JVM of its own on 127.0.0.1 (as
 * in production, where the job's JVM holds no broker: the broker's garbage and threads then do not
 * stop the job's). Either is a single KRaft node from kafka-local.
 */
final class BenchBroker implements AutoCloseable {

  private final LocalKafkaBroker inProcess;
  private final Process process;
  private final String bootstrapServers;

  private BenchBroker(LocalKafkaBroker inProcess, Process process, String bootstrapServers) {
    this.inProcess = inProcess;
    this.process = process;
    this.bootstrapServers = bootstrapServers;
  }

  static BenchBroker inProcess() throws Exception {
    LocalKafkaBroker broker = LocalKafkaBroker.start();
    return new BenchBroker(broker, null, broker.bootstrapServers());
  }

  /**
   * {@code forecast broker} in a child JVM with this one's class path; stopped (and its data
   * removed) on close.
   */
  static BenchBroker separateProcess() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    System.getProperties().stringPropertyNames().stream()
        .filter(
            k ->
                k.startsWith("forecaster.")
                    || k.startsWith("org.apache.avro.")
                    || k.startsWith("log4j"))
        .forEach(k -> command.add("-D" + k + "=" + System.getProperty(k)));
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            ForecastCommand.class.getName(),
            "broker",
            "--port",
            Integer.toString(port)));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    Runtime.getRuntime().addShutdownHook(new Thread(process::destroy, "bench-broker-stop"));
    BufferedReader lines =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> ready = new CompletableFuture<>();
    StringBuilder seen = new StringBuilder();
    Thread drain =
        new Thread(
            () -> {
              try {
                for (String line; (line = lines.readLine()) != null; ) {
                  if (!ready.isDone()) {
                    seen.append(line).append('\n');
                    if (line.startsWith("Kafka broker on")) {
                      ready.complete(line);
                    }
                  }
                }
              } catch (IOException e) {
                // the process ended
              }
              ready.completeExceptionally(
                  new IllegalStateException("the broker process ended:\n" + seen));
            },
            "bench-broker-output");
    drain.setDaemon(true);
    drain.start();
    try {
      ready.get(90, TimeUnit.SECONDS);
    } catch (Exception e) {
      process.destroyForcibly();
      throw new IllegalStateException(
          "the broker process did not start on port " + port + ": " + seen, e);
    }
    return new BenchBroker(null, process, "127.0.0.1:" + port);
  }

  String bootstrapServers() {
    return bootstrapServers;
  }

  @Override
  public void close() throws InterruptedException {
    if (inProcess != null) {
      inProcess.close();
      return;
    }
    process.destroy(); // SIGTERM: the broker stops and removes its data folder
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
