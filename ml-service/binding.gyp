{
  "targets": [
    {
      "target_name": "zscan",
      "sources": ["native/zscan.c"],
      "cflags": ["-O2", "-ffp-contract=off", "-fno-fast-math"]
    },
    {
      "target_name": "dtwscan",
      "sources": ["native/dtwscan.c"],
      "cflags": ["-O2", "-ffp-contract=off", "-fno-fast-math"]
    },
    {
      "target_name": "storeread",
      "sources": ["native/store_read.c"],
      "cflags": ["-O2"],
      "libraries": ["-lsqlite3"]
    }
  ]
}
