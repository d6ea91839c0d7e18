//! A small vSphere (vim25) SOAP client: session, PropertyCollector, tasks, TLS pinning.
