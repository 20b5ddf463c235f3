import { add } from "./state.mjs";

class Metric {
  constructor(name, type, isTime) {
    this.name = name;
    this.type = type;
    this.contains = isTime ? "time" : "default";
  }

  add(value, tags = {}) {
    add(this.name, this.type, Number(value), tags, this.contains);
  }
}

export class Trend extends Metric {
  constructor(name, isTime = false) {
    super(name, "trend", isTime);
  }
}

export class Rate extends Metric {
  constructor(name) {
    super(name, "rate", false);
  }

  add(value, tags = {}) {
    super.add(value ? 1 : 0, tags);
  }
}

export class Counter extends Metric {
  constructor(name) {
    super(name, "counter", false);
  }
}

export class Gauge extends Metric {
  constructor(name) {
    super(name, "gauge", false);
  }
}
