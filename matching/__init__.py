"""Convergence: what no portal does. Match a project to the calls that fit it (eligibility, reasons,
precedents, partners), find the initiatives a programme overlaps or completes, list who works on a mission
where, and map missions by territory with their gaps. Built on the index (``index``) and on a document-level
catalog derived from it after each ingestion (``convergenze.matching.catalog``)."""
