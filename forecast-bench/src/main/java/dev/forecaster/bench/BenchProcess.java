package dev.forecaster.bench;

import dev.forecaster.cli.ChildJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A {@code forecast} command in a JVM of its own, as a user runs it: its output goes to a log file
 * and is kept for {@link #await}; {@link #kill} is a SIGKILL.
 */
final class BenchProcess implements AutoCloseable {

  private final List<String> command;
  private final Map<String, String> environment;
  private final Path log;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private Process process;

  private BenchProcess(List<String> command, Map<String, String> environment, Path log) {
    this.command = command;
    this.environment = environment;
    this.log = log;
  }

  /**
   * Starts {@code forecast <args>} with {@code environment} added, its output appended to {@code
   * log}.
   */
  static BenchProcess start(Path log, Map<String, String> environment, String... args)
      throws IOException {
    List<String> command = ChildJvm.forecast(List.of("-Xmx2g"), List.of(args));
    BenchProcess p = new BenchProcess(command, environment, log);
    p.start();
    return p;
  }

  /** Starts the command (again, after {@link #kill}). */
  void start() throws IOException {
    Files.createDirectories(log.getParent());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(environment);
    process = builder.start();
    Process started = process;
    Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly, "bench-child-stop"));
    Thread drain =
        new Thread(
            () -> {
              try (BufferedReader in =
                      new BufferedReader(
                          new InputStreamReader(started.getInputStream(), StandardCharsets.UTF_8));
                  PrintWriter file =
                      new PrintWriter(
                          Files.newBufferedWriter(
                              log, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
                          true)) {
                for (String line; (line = in.readLine()) != null; ) {
                  lines.add(line);
                  file.println(line);
                }
              } catch (IOException e) {
                // the process ended
              }
            },
            "bench-child-output");
    drain.setDaemon(true);
    drain.start();
  }

  /** Where the output is now: {@link #await} from here looks only at what comes after. */
  int mark() {
    return lines.size();
  }

  /** Waits until a line of output from {@code mark} on matches; fails if the process ends first. */
  String await(int mark, Predicate<String> line, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int from = mark;
    while (System.nanoTime() < deadline) {
      for (int i = from; i < lines.size(); i++) {
        if (line.test(lines.get(i))) {
          return lines.get(i);
        }
      }
      from = lines.size();
      if (!process.isAlive() && from == lines.size()) {
        throw new IllegalStateException(
            "the process ended (exit " + process.exitValue() + "); its output is in " + log);
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("no such line within " + timeout + "; see " + log);
  }

  /** Lines of output so far that match. */
  long count(Predicate<String> line) {
    return lines.stream().filter(line).count();
  }

  /** SIGKILL, as the kernel's OOM killer or a lost machine would. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
