package dev.forecaster.bench;

import dev.forecaster.cli.ChildJvm;
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
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The Kafka broker a benchmark runs against: in this JVM, or in a JVM of its own on 127.0.0.1 (as
 * in production, where the job's JVM holds no broker: the broker's garbage and threads then do not
 * stop the job's). Either is a single KRaft node from kafka-local.
 */
final class BenchBroker implements AutoCloseable {

  private final LocalKafkaBroker inProcess;
  private final List<String> command;
  private final String bootstrapServers;
  private Process process;

  private BenchBroker(LocalKafkaBroker inProcess, List<String> command, String bootstrapServers) {
    this.inProcess = inProcess;
    this.command = command;
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
    return separateProcess(null, Map.of());
  }

  /**
   * {@code forecast broker} in a child JVM on a free port, with its data in {@code dataDir} (kept,
   * so that {@link #kill} and {@link #start} resume it) or in a temporary folder (null), and {@code
   * properties} replacing the broker's defaults.
   */
  static BenchBroker separateProcess(Path dataDir, Map<String, String> properties)
      throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    List<String> command =
        new ArrayList<>(
            ChildJvm.forecast(
                List.of("-Xmx1g"), List.of("broker", "--port", Integer.toString(port))));
    if (dataDir != null) {
      command.addAll(List.of("--data-dir", dataDir.toString()));
    }
    properties.forEach((k, v) -> command.addAll(List.of("--broker-property", k + "=" + v)));
    BenchBroker broker = new BenchBroker(null, command, "127.0.0.1:" + port);
    broker.start();
    return broker;
  }

  /** Starts the child broker (again, after {@link #kill}: the same port and data). */
  void start() throws Exception {
    process = new ProcessBuilder(command).redirectErrorStream(true).start();
    Process started = process;
    Runtime.getRuntime().addShutdownHook(new Thread(started::destroy, "bench-broker-stop"));
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
          "the broker process did not start at " + bootstrapServers + ": " + seen, e);
    }
  }

  /** SIGKILL: the broker stops as a machine that loses power would, its data left as it is. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
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
    process.destroy(); // SIGTERM: the broker stops (and removes a temporary data folder)
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
