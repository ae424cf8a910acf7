"""The face engine: detect, align, embed, landmarks, blendshapes, quality (numpy in, values out).

Usage::

    from smilepay.vision.decode import decode_image          # bytes -> BGR array, named errors
    from smilepay.vision.pipeline import FacePipeline, require_quality
    from smilepay.vision.compare import similarity
    from smilepay.vision.calibration import threshold_at_far

    engine = load_pipeline()            # YuNet + MediaPipe + configured strategy, loaded once
    # (load_pipeline: adapters/models/pipeline_factory.py, which composes the models)
    frame = decode_image(jpeg_bytes)   # NotAnImage, ImageTruncated, ImageEmpty, ImageTooLarge
    analysis = engine.analyze_frame(frame)       # NoFaceFound, AmbiguousFaces
    analysis.face.box_xyxy, analysis.quality.reasons          # () when the gate passes
    analysis.signals.smile, analysis.signals.blink_left, analysis.signals.yaw_deg
    analysis.embedding.vector, analysis.embedding.model_id    # unit vector, strategy id
    require_quality(analysis)                    # PoorQuality(reasons) when it fails
    # Kiosk streams: cheap per frame, full embedding once on the frame that decides
    per_frame = engine.analyze_frame(frame, embed="lead")     # model id "<strategy>#lead"
    decision = engine.complete_embedding(frame, per_frame)    # == analyze_frame(frame).embedding
    score = similarity(analysis.embedding, enrolled_embedding)
    same = score >= threshold_at_far(analysis.embedding.model_id, 1e-4)

Smaller pieces: ``detect.detect_faces(image, detector)``, ``align.align_face(image, landmarks5)``,
``choose.choose_paying_face(faces, w, h)``, ``quality.assess_quality(face, chip, signals)``,
``fusion.build_template(vectors)`` (multi-image template). Errors: ``vision.errors``.
This package imports no adapter: the models are handed in through ``smilepay.ports.vision``.
"""
