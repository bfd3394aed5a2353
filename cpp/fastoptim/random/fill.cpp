// Random fills: dispatch to the ISA level in use. (Filled in by the initializer work.)
