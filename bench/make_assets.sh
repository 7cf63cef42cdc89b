#!/usr/bin/env sh
# Regenerate the small media files the mock serves (contracts/media/), with ffmpeg.
#
#   sh bench/make_assets.sh            # needs ffmpeg with libmp3lame, libopus, libx264, libvpx
#
# Run it only to change the assets: they are committed, so neither CI nor users need ffmpeg.
# Audio is 0.5 s of silence, mono; OpenAI's text-to-speech formats are covered one file each
# (pcm is raw signed 16-bit little-endian at 24 kHz, what OpenAI's response_format pcm is).
# Video is one second of a 64x64 test pattern. -bitexact and no metadata keep reruns identical.
set -eu
out="$(dirname "$0")/../contracts/media"
mkdir -p "$out"
silence="anullsrc=r=24000:cl=mono"
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
# MPEG-1 Layer III (44.1 kHz) so every frame header starts ff fb; no ID3 tag.
ff -f lavfi -t 0.5 -i "anullsrc=r=44100:cl=mono" -c:a libmp3lame -b:a 32k -id3v2_version 0 \
   -write_id3v1 0 -map_metadata -1 -bitexact "$out/silence.mp3"
ff -f lavfi -t 0.5 -i "anullsrc=r=48000:cl=mono" -c:a libopus -b:a 16k -map_metadata -1 \
   -bitexact -f ogg "$out/silence.opus"
ff -f lavfi -t 0.5 -i "$silence" -c:a aac -b:a 24k -map_metadata -1 -bitexact -f adts \
   "$out/silence.aac"
ff -f lavfi -t 0.5 -i "$silence" -c:a flac -map_metadata -1 -bitexact "$out/silence.flac"
ff -f lavfi -t 0.5 -i "$silence" -c:a pcm_s16le -map_metadata -1 -bitexact -f wav \
   "$out/silence.wav"
ff -f lavfi -t 0.5 -i "$silence" -c:a pcm_s16le -f s16le "$out/silence.pcm"
ff -f lavfi -t 1 -i "testsrc2=size=64x64:rate=8" -c:v libx264 -preset veryslow -crf 40 \
   -pix_fmt yuv420p -movflags +faststart -map_metadata -1 -bitexact "$out/clip.mp4"
ff -f lavfi -t 1 -i "testsrc2=size=64x64:rate=8" -c:v libvpx-vp9 -b:v 40k -pix_fmt yuv420p \
   -map_metadata -1 -bitexact "$out/clip.webm"
ls -l "$out"
