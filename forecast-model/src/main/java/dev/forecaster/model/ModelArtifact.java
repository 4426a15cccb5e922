package dev.forecaster.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.nn.Block;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * The model artifact: one zip with {@code model.json} (the {@link ModelSpec}) and {@code
 * parameters.bin} (the network weights in DJL's format). The bytes are deterministic for the same
 * model, and their SHA-256 travels beside them; loading verifies it before anything else is read.
 */
public final class ModelArtifact {

  static final String SPEC_ENTRY = "model.json";
  static final String PARAMETERS_ENTRY = "parameters.bin";
  private static final long FIXED_ENTRY_TIME = 0L;
  private static final int MAX_ENTRY_BYTES = 256 * 1024 * 1024;

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private ModelArtifact() {}

  /** Artifact bytes of a model: its spec and its network's weights. */
  public static byte[] write(LoadedModel model) {
    return write(model, model.spec());
  }

  /**
   * Artifact bytes of a model's weights under an updated spec (a version, metrics): the network and
   * the way windows are encoded must be the model's own.
   */
  public static byte[] write(LoadedModel model, ModelSpec spec) {
    if (!LoadedModel.sameNetwork(model.spec(), spec)) {
      throw new IllegalArgumentException("the spec describes another network than the model's");
    }
    Block network = model.djlModel().getBlock();
    try {
      ByteArrayOutputStream parameters = new ByteArrayOutputStream();
      network.saveParameters(new DataOutputStream(parameters));
      ByteArrayOutputStream zip = new ByteArrayOutputStream();
      try (ZipOutputStream out = new ZipOutputStream(zip)) {
        putEntry(out, SPEC_ENTRY, JSON.writeValueAsBytes(spec));
        putEntry(out, PARAMETERS_ENTRY, parameters.toByteArray());
      }
      return zip.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the artifact of " + spec.name() + " (in memory)", e);
    }
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }

  /** The spec inside artifact bytes, after verifying their checksum; no weights are loaded. */
  public static ModelSpec readSpec(byte[] bytes, String expectedSha256)
      throws ModelArtifactException {
    verifyChecksum(bytes, expectedSha256);
    return parseSpec(entry(bytes, SPEC_ENTRY));
  }

  /**
   * Loads an artifact onto a device after verifying its checksum. The caller owns the returned
   * model and closes it.
   */
  public static LoadedModel load(byte[] bytes, String expectedSha256, Device device)
      throws ModelArtifactException {
    verifyChecksum(bytes, expectedSha256);
    ModelSpec spec = parseSpec(entry(bytes, SPEC_ENTRY));
    byte[] parameters = entry(bytes, PARAMETERS_ENTRY);
    try {
      return Networks.instantiate(
          spec, device, (network, manager) -> Networks.loadWeights(network, manager, parameters));
    } catch (LstmKernelException e) {
      throw e; // the machine, not the model: a model that loads elsewhere is not called broken
    } catch (IOException | MalformedModelException | RuntimeException e) {
      throw new ModelArtifactException(
          "the weights of "
              + spec.name()
              + " v"
              + spec.version()
              + " do not fit its network: "
              + e.getMessage(),
          e);
    }
  }

  /**
   * Writes artifact bytes and their checksum ({@code model.zip}, {@code model.zip.sha256}) into a
   * folder.
   */
  public static Path save(byte[] bytes, Path folder) throws IOException {
    Files.createDirectories(folder);
    Path file = folder.resolve("model.zip");
    Files.write(file, bytes);
    Files.writeString(folder.resolve("model.zip.sha256"), sha256(bytes) + "  model.zip\n");
    return file;
  }

  /** Reads a folder written by {@link #save} and loads it, verifying the checksum. */
  public static LoadedModel load(Path folder, Device device)
      throws IOException, ModelArtifactException {
    byte[] bytes = Files.readAllBytes(folder.resolve("model.zip"));
    String sha = Files.readString(folder.resolve("model.zip.sha256")).strip().split("\\s+")[0];
    return load(bytes, sha, device);
  }

  private static void verifyChecksum(byte[] bytes, String expectedSha256)
      throws ModelArtifactException {
    if (bytes == null || bytes.length == 0) {
      throw new ModelArtifactException("the artifact is empty");
    }
    String actual = sha256(bytes);
    if (expectedSha256 == null || !actual.equalsIgnoreCase(expectedSha256.strip())) {
      throw new ModelArtifactException(
          "artifact checksum mismatch: expected "
              + expectedSha256
              + ", the bytes hash to "
              + actual);
    }
  }

  static ModelSpec parseSpec(byte[] json) throws ModelArtifactException {
    try {
      return JSON.readValue(json, ModelSpec.class);
    } catch (IOException | IllegalArgumentException e) {
      throw new ModelArtifactException(
          "the artifact's " + SPEC_ENTRY + " is not a model spec: " + e.getMessage(), e);
    }
  }

  /** The spec as the JSON stored in the artifact (for reports and local model folders). */
  public static String specJson(ModelSpec spec) {
    try {
      return JSON.writeValueAsString(spec);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] entry(byte[] zip, String name) throws ModelArtifactException {
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
        if (e.getName().equals(name)) {
          byte[] content = in.readNBytes(MAX_ENTRY_BYTES + 1);
          if (content.length > MAX_ENTRY_BYTES) {
            throw new ModelArtifactException(
                "artifact entry " + name + " is larger than " + MAX_ENTRY_BYTES + " bytes");
          }
          return content;
        }
      }
    } catch (IOException e) {
      throw new ModelArtifactException("the artifact is not a readable zip: " + e.getMessage(), e);
    }
    throw new ModelArtifactException("the artifact has no " + name);
  }

  private static void putEntry(ZipOutputStream out, String name, byte[] content)
      throws IOException {
    ZipEntry entry = new ZipEntry(name);
    entry.setTime(FIXED_ENTRY_TIME); // same model, same bytes, same checksum
    out.putNextEntry(entry);
    out.write(content);
    out.closeEntry();
  }
}
