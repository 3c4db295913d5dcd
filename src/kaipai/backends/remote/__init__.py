"""What every cloud and server backend shares: the async-task layer (:mod:`.tasks`) and the
capability sheets kept as data (:mod:`.sheets`, ``catalog/<provider>.yaml``)."""
