print("paymesh: not implemented yet")
