{
  "targets": [
    {
      "target_name": "zscan",
      "sources": ["native/zscan.c"],
      "cflags": ["-O2", "-ffp-contract=off", "-fno-fast-math"]
    }
  ]
}
