print("paymesh-bench: no benchmarks yet")
