#!/usr/bin/env python3
"""`loacast render` end to end, judged by independent tools.

What loacast writes is read back with opusinfo, ffprobe and ffmpeg: the file must be valid Ogg Opus,
mono, as long as the synthesiser's speech (espeak-ng's own command-line program speaking the same
normalised text, within 20 ms), at -16 LUFS +/- 1 LU with true peak <= -1 dBTP, at the requested
bitrate +/- 20%. Recordings in WAV, FLAC, MP3 and Ogg Vorbis made here with sox/ffmpeg render too.
Bad input gets a clear message and a non-zero exit.
"""
import os
import re
import subprocess
import sys
import tempfile

LOACAST = os.environ["LOACAST"]
ROOT = os.environ["LOACAST_SOURCE_ROOT"]
SAMPLE = os.path.join(ROOT, "data", "sample-bulletin-vi.txt")
# a copy of ../shared/data/bulletin-long-vi.txt (~1,100 words), repeated to 1,500 below
LONG = os.path.join(ROOT, "tests", "codecs", "bulletin-long-vi.txt")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def opusinfo_clean(path):
    r = run(["opusinfo", path])
    text = r.stdout + r.stderr
    return r.returncode == 0 and not re.search(r"warning|error", text, re.I), text


def ffprobe_stream(path):
    r = run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
             "stream=codec_name,channels,sample_rate", "-of", "default=nw=1", path])
    return dict(line.split("=", 1) for line in r.stdout.split() if "=" in line)


def decoded_seconds(path):
    """Seconds of audio after decoding (ffmpeg applies the pre-skip and the end trim)."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar",
                        "48000", "-"], capture_output=True)
    return len(r.stdout) / 2 / 48000


def ebur128(path):
    """Integrated loudness and true peak as a listener hears the file: decoded by libopus, the
    reference decoder (receivers' libopusfile, Chromium, VLC, opusdec). FFmpeg's own Opus
    decoder is not bit-exact: on the 1,500-word southern bulletin it put one spot at -0.5 dBTP
    where libopus gives -1.3 (2026-12-07)."""
    opus = ["-c:a", "libopus"] if path.endswith(".opus") else []
    r = run(["ffmpeg", "-nostats", "-hide_banner"] + opus + ["-i", path, "-af", "ebur128=peak=true",
             "-f", "null", "-"])
    summary = r.stderr[r.stderr.rfind("Summary:"):]
    lufs = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return lufs, peak


def bitrate_kbps(path):
    """Audio bitrate from opusinfo's own count, without Ogg overhead."""
    _, text = opusinfo_clean(path)
    m = re.search(r"w/o overhead: ([\d.]+) kbit/s", text)
    return float(m.group(1)) if m else 0.0


def main():
    tmp = tempfile.mkdtemp(prefix="loacast-render-")

    # Help.
    r = run([LOACAST, "render", "--help"])
    check(r.returncode == 0 and "--voice" in r.stdout and "--audio" in r.stdout,
          "render --help explains the options")

    # Text to Ogg Opus, checked with independent tools.
    out = os.path.join(tmp, "sample.opus")
    r = run([LOACAST, "render", "-o", out, SAMPLE])
    check(r.returncode == 0 and os.path.exists(out), "render the sample bulletin: " + r.stderr)
    clean, text = opusinfo_clean(out)
    check(clean, "opusinfo reports no warning or error")
    s = ffprobe_stream(out)
    check(s.get("codec_name") == "opus" and s.get("channels") == "1", f"ffprobe sees mono Opus {s}")

    # The synthesiser's own PCM length: espeak-ng's program speaking the normalised text.
    norm = run([LOACAST, "normalize", SAMPLE]).stdout
    normf = os.path.join(tmp, "norm.txt")
    with open(normf, "w", encoding="utf-8") as f:
        f.write(norm)
    wav = os.path.join(tmp, "espeak.wav")
    run(["espeak-ng", "-v", "vi", "-s", "150", "-w", wav, "-f", normf])
    ref = int(run(["soxi", "-s", wav]).stdout.strip()) / 22050
    got = decoded_seconds(out)
    check(abs(got - ref) <= 0.020, f"duration {got:.4f} s equals the synthesiser's {ref:.4f} s within 20 ms")

    lufs, peak = ebur128(out)
    check(abs(lufs - (-16.0)) <= 1.0, f"integrated loudness {lufs} LUFS within 1 LU of -16")
    check(peak <= -1.0, f"true peak {peak} dBTP <= -1")
    br = bitrate_kbps(out)
    check(abs(br - 24) <= 24 * 0.2, f"bitrate {br} kbit/s within 20% of 24")

    # Other voices, rates and bitrates.
    for voice, kbps in (("vi-vn-x-central", 16), ("vi-vn-x-south", 48)):
        o = os.path.join(tmp, voice + ".opus")
        r = run([LOACAST, "render", "-q", "-v", voice, "-b", str(kbps), "-o", o, SAMPLE])
        check(r.returncode == 0, f"voice {voice} at {kbps} kbit/s renders: {r.stderr}")
        check(opusinfo_clean(o)[0], f"{voice}: opusinfo clean")
        br = bitrate_kbps(o)
        check(abs(br - kbps) <= kbps * 0.2, f"{voice}: bitrate {br} within 20% of {kbps}")
        lufs, peak = ebur128(o)
        check(abs(lufs + 16) <= 1.0 and peak <= -1.0, f"{voice}: {lufs} LUFS, {peak} dBTP")

    # A long bulletin in the southern voice (1,500 words, gain +12.7 dB into the limiter): Opus
    # pre-echo overshoots that lowering the overshooting samples alone never cured came out at
    # +0.16 dBTP before 2026-11-29 (docs/audio.md).
    words = open(LONG, encoding="utf-8").read().split()
    longf = os.path.join(tmp, "long.txt")
    with open(longf, "w", encoding="utf-8") as f:
        f.write(" ".join((words * (1500 // len(words) + 1))[:1500]) + "\n")
    o = os.path.join(tmp, "long-south.opus")
    r = run([LOACAST, "render", "-q", "-v", "vi-vn-x-south", "-o", o, longf])
    check(r.returncode == 0, f"long bulletin renders: {r.stderr}")
    lufs, peak = ebur128(o)
    check(abs(lufs + 16) <= 1.0 and peak <= -1.0, f"long, southern voice: {lufs} LUFS, {peak} dBTP")

    slow = os.path.join(tmp, "slow.opus")
    run([LOACAST, "render", "-q", "-r", "100", "-o", slow, SAMPLE])
    check(decoded_seconds(slow) > got * 1.2, "a slower rate gives longer speech")

    # Several bulletins in one process, into a directory.
    many = os.path.join(tmp, "many")
    os.mkdir(many)
    inputs = []
    for i in range(4):
        p = os.path.join(tmp, f"b{i}.txt")
        with open(p, "w", encoding="utf-8") as f:
            f.write(f"Bản tin số {i + 1}. Bà con chú ý lịch cắt điện.\n")
        inputs.append(p)
    r = run([LOACAST, "render", "-q", "-o", many] + inputs)
    outs = sorted(os.listdir(many))
    check(r.returncode == 0 and outs == [f"b{i}.opus" for i in range(4)], f"four bulletins: {outs}")
    check(all(opusinfo_clean(os.path.join(many, o))[0] for o in outs), "all four are valid")

    # Standard input.
    r = subprocess.run([LOACAST, "render", "-q", "-o", os.path.join(tmp, "stdin.opus"), "-"],
                       input="Xin chào bà con.".encode(), capture_output=True)
    check(r.returncode == 0, "text from standard input")

    # Recordings: a 3.5 s tone-and-noise clip in four formats, odd rates and channel counts.
    src = os.path.join(tmp, "src.wav")
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", src, "synth", "3.5", "sine", "300",
                    "sine", "450", "tremolo", "3", "60"], check=True)
    variants = {
        "wav": ["sox", src, "-r", "16000", "-c", "1"],
        "flac": ["sox", src, "-r", "32000"],
        "mp3": ["ffmpeg", "-v", "error", "-y", "-i", src, "-ar", "44100", "-b:a", "64k"],
        "ogg": ["ffmpeg", "-v", "error", "-y", "-i", src, "-c:a", "libvorbis", "-ar", "22050"],
    }
    for ext, cmd in variants.items():
        f = os.path.join(tmp, "rec." + ext)
        subprocess.run(cmd + [f], check=True, capture_output=True)
        o = os.path.join(tmp, "rec-" + ext + ".opus")
        r = run([LOACAST, "render", "-q", "--audio", "-o", o, f])
        check(r.returncode == 0, f"{ext} recording renders: {r.stderr.strip()}")
        if r.returncode != 0:
            continue
        check(opusinfo_clean(o)[0], f"{ext}: opusinfo clean")
        d = decoded_seconds(o)
        # MP3 encoders add their own padding; the others keep the length to the sample.
        tol = 0.08 if ext == "mp3" else 0.02
        check(abs(d - 3.5) <= tol, f"{ext}: {d:.3f} s long (3.5 s in)")
        lufs, peak = ebur128(o)
        check(abs(lufs + 16) <= 1.0 and peak <= -1.0, f"{ext}: {lufs} LUFS, {peak} dBTP")

    # Bad input: clear message, non-zero exit, no output file.
    def refused(args, stdin, needle, what):
        o = os.path.join(tmp, "bad.opus")
        if os.path.exists(o):
            os.remove(o)
        r = subprocess.run([LOACAST, "render", "-o", o] + args, input=stdin.encode(),
                           capture_output=True)
        err = r.stderr.decode(errors="replace")
        check(r.returncode != 0 and needle in err and not os.path.exists(o),
              f"{what}: exit {r.returncode}, says {err.strip()!r}")

    refused(["-"], "   \n\n  ", "empty", "empty text")
    refused(["-v", "fr", "-"], "Xin chào", "unknown voice 'fr'", "unknown voice")
    refused(["-b", "8", "-"], "Xin chào", "12..64", "bitrate out of range")
    junk = os.path.join(tmp, "junk.mp3")
    with open(junk, "w") as f:
        f.write("this is not audio\n" * 100)
    refused(["--audio", junk], "", "not audio", "a non-audio file")
    refused([os.path.join(tmp, "missing.txt")], "", "cannot open", "a missing file")

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
